package providertest

import (
	"crypto"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// AuthClient is a client of the fake authorization server: a script, a
// batch job or a service that uses the client-credentials grant.
type AuthClient struct {
	ID, Secret string
	// Scopes the client may ask for; a request without scope gets all of
	// them (RFC 6749 3.3: the server's documented default).
	Scopes []string
	// Audiences put in the tokens' aud; zero: AuthServerOptions.Audience.
	Audiences []string
}

// AuthServerOptions configure an AuthServer.
type AuthServerOptions struct {
	// Clients the server knows; at least one.
	Clients []AuthClient
	// Audience is the default aud of issued tokens; zero: "api".
	Audience string
	// Alg signs the tokens: RS256 (zero value), PS256, ES256 or EdDSA.
	Alg string
	// TokenTTL is the access tokens' lifetime; zero: 1h.
	TokenTTL time.Duration
	// Now is the clock of iat and exp; zero: time.Now.
	Now func() time.Time
	// BaseURL is the issuer, for NewAuthServer (a path is fine: the
	// server is then mounted under it); StartAuthServer sets it.
	BaseURL string
}

// AuthServer is a fake OAuth 2.0 authorization server for machine clients:
// the client-credentials grant (RFC 6749 4.4) at POST /token with
// client_secret_basic or client_secret_post, access tokens in the JWT
// profile of RFC 9068 (typ at+jwt, iss, aud, exp, iat, jti, sub and
// client_id, scope), its keys at /jwks, and metadata at both
// /.well-known/oauth-authorization-server (RFC 8414) and
// /.well-known/openid-configuration, as Keycloak, Auth0, Okta and Entra ID
// serve them. Keys rotate on demand the way real servers do it: Rotate
// publishes and signs with a new key while the old one stays in the JWKS
// until Retire. It is safe for concurrent use.
type AuthServer struct {
	o        AuthServerOptions
	base     string // the issuer: BaseURL without a trailing slash
	basePath string // BaseURL's path, "" at the root
	now      func() time.Time
	ttl      time.Duration
	srv      *httptest.Server

	mu       sync.Mutex
	keys     []*authKey // published; the last one signs
	fetches  int        // GET /jwks served
	jwksDown bool
}

type authKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

// NewAuthServer returns a server to mount at o.BaseURL.
func NewAuthServer(o AuthServerOptions) (*AuthServer, error) {
	a, err := newAuthServer(o)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(o.BaseURL, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("providertest: BaseURL %q is not an absolute http(s) URL", o.BaseURL)
	}
	a.base, a.basePath = base, u.Path
	return a, nil
}

// StartAuthServer serves an AuthServer on 127.0.0.1 at a random port.
func StartAuthServer(o AuthServerOptions) (*AuthServer, error) {
	a, err := newAuthServer(o)
	if err != nil {
		return nil, err
	}
	srv := httptest.NewUnstartedServer(a)
	a.base = "http://" + srv.Listener.Addr().String()
	a.srv = srv
	srv.Start()
	return a, nil
}

func newAuthServer(o AuthServerOptions) (*AuthServer, error) {
	if len(o.Clients) == 0 {
		return nil, errors.New("providertest: an AuthServer needs at least one client")
	}
	for _, c := range o.Clients {
		if c.ID == "" || c.Secret == "" {
			return nil, errors.New("providertest: every AuthClient needs an ID and a Secret")
		}
	}
	if o.Audience == "" {
		o.Audience = "api"
	}
	if o.Alg == "" {
		o.Alg = string(jose.RS256)
	}
	a := &AuthServer{o: o, now: o.Now, ttl: o.TokenTTL}
	if a.now == nil {
		a.now = time.Now
	}
	if a.ttl <= 0 {
		a.ttl = time.Hour
	}
	k, err := newAuthKey(jose.SignatureAlgorithm(o.Alg))
	if err != nil {
		return nil, err
	}
	a.keys = []*authKey{k}
	return a, nil
}

// Close stops a server started by StartAuthServer.
func (a *AuthServer) Close() {
	if a.srv != nil {
		a.srv.Close()
	}
}

// URL is the issuer.
func (a *AuthServer) URL() string { return a.base }

// TokenURL is the token endpoint.
func (a *AuthServer) TokenURL() string { return a.base + "/token" }

// JWKSURL is where the keys are published.
func (a *AuthServer) JWKSURL() string { return a.base + "/jwks" }

// Claims are the claims of a token the server issues for client with
// scopes: what Sign would be given for a real grant.
func (a *AuthServer) Claims(c AuthClient, scopes []string) map[string]any {
	now := a.now()
	aud := c.Audiences
	if len(aud) == 0 {
		aud = []string{a.o.Audience}
	}
	jti := make([]byte, 12)
	_, _ = rand.Read(jti)
	claims := map[string]any{
		"iss":       a.base,
		"sub":       c.ID,
		"client_id": c.ID,
		"aud":       aud,
		"iat":       now.Unix(),
		"exp":       now.Add(a.ttl).Unix(),
		"jti":       base64.RawURLEncoding.EncodeToString(jti),
	}
	if len(aud) == 1 {
		claims["aud"] = aud[0] // RFC 7519: a single audience may be a string
	}
	if len(scopes) > 0 {
		claims["scope"] = strings.Join(scopes, " ")
	}
	return claims
}

func (a *AuthServer) client(id string) (AuthClient, bool) {
	i := slices.IndexFunc(a.o.Clients, func(c AuthClient) bool { return c.ID == id })
	if i < 0 {
		return AuthClient{}, false
	}
	return a.o.Clients[i], true
}

// ServeHTTP serves the token endpoint, the JWKS and the metadata.
func (a *AuthServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if a.basePath != "" && strings.HasPrefix(p, a.basePath+"/") {
		p = p[len(a.basePath):] // mounted under BaseURL's path (demo)
	}
	switch p {
	case "/token":
		a.serveToken(w, r)
	case "/jwks":
		a.serveKeys(w, r)
	case "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration":
		if r.Method != http.MethodGet {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                                a.base,
			"token_endpoint":                        a.TokenURL(),
			"jwks_uri":                              a.JWKSURL(),
			"grant_types_supported":                 []string{"client_credentials"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
			"response_types_supported":              []string{"code"},
			"scopes_supported":                      a.allScopes(),
		})
	default:
		http.NotFound(w, r)
	}
}

func (a *AuthServer) allScopes() []string {
	var all []string
	for _, c := range a.o.Clients {
		for _, s := range c.Scopes {
			if !slices.Contains(all, s) {
				all = append(all, s)
			}
		}
	}
	return all
}

// serveToken is the token endpoint of RFC 6749 4.4 with the error answers
// of 5.2: invalid_client (401, with WWW-Authenticate when Basic was used),
// unsupported_grant_type, invalid_scope, invalid_request.
func (a *AuthServer) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		authError(w, http.StatusBadRequest, "invalid_request", "want an application/x-www-form-urlencoded body")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 2.3.1: the Basic credentials are form-urlencoded first.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil || r.PostForm.Has("client_secret") {
			authError(w, http.StatusBadRequest, "invalid_request", "one client authentication method at a time")
			return
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	c, ok := a.client(id)
	if !ok || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		}
		authError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		authError(w, http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is served")
		return
	}
	scopes := c.Scopes
	if s := r.PostForm.Get("scope"); s != "" {
		scopes = strings.Fields(s)
		for _, sc := range scopes {
			if !slices.Contains(c.Scopes, sc) {
				authError(w, http.StatusBadRequest, "invalid_scope", "scope not allowed for this client")
				return
			}
		}
	}
	token, err := a.Sign(a.Claims(c, scopes))
	if err != nil {
		authError(w, http.StatusInternalServerError, "server_error", "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token,
		"token_type":   "Bearer",
		"expires_in":   int(a.ttl / time.Second),
		"scope":        strings.Join(scopes, " "),
	})
}

func authError(w http.ResponseWriter, status int, code, desc string) {
	body := map[string]string{"error": code}
	if desc != "" {
		body["error_description"] = desc
	}
	writeJSON(w, status, body)
}
