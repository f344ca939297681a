// Package providertest runs faithful fakes of Google, Naver and Kakao, for
// the gateway's tests and for `socialgate demo`.
//
// Like go-oidc's oidctest, a Fake is an http.Handler: Start serves it on a
// loopback port, New returns one to mount under another mux (demo mounts
// them at e.g. http://127.0.0.1:4180/_fake/kakao). Each fake speaks its
// provider's wire format with the quirks of shared/PROVIDERS.md: Naver's
// token errors with HTTP 200 and its string expires_in, Kakao's int64 ids
// above 2^53 and KOE error codes, Google's one-time refresh token and its
// "4/0A…" codes that need URL escaping. A client that passes only against
// a friendlier fake proves nothing, so the fakes are strict where the real
// providers are (or may be). Where PROVIDERS.md marks a behaviour
// unconfirmed, the choice made here is documented next to the code.
//
// The consent page, for people and headless browsers, is a form with one
// radio button per user (name "user", value the user's ID, id "user-N")
// and two submit buttons named "action": id "allow" (value "allow") and
// id "cancel" (value "cancel").
package providertest

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Provider kinds accepted by New and Start.
const (
	Google = "google"
	Naver  = "naver"
	Kakao  = "kakao"
)

// User is one account the fake can sign in.
type User struct {
	ID            string // Google sub (≈21 digits), Naver id (≈43 chars URL-safe), Kakao id (decimal int64, may exceed 2^53)
	Email         string // "" = the user has no e-mail or withheld consent for it
	EmailVerified bool   // Google email_verified, Kakao is_email_verified (Naver has no flag)
	Name          string // Google name, Naver name
	Nickname      string // Naver nickname, Kakao nickname (Hangul welcome)
	Picture       string
	Label         string // shown on the consent page, e.g. "홍길동 (no e-mail)"
	// NoProfile is Kakao's withheld profile consent: kakao_account.profile
	// is missing and Nickname, if any, appears only in properties. A user
	// with NoProfile and no Email has no kakao_account at all.
	NoProfile bool
	// EmailPrivate is GitHub's private e-mail: /user says null, only
	// /user/emails has it (Nickname is the GitHub login).
	EmailPrivate bool
}

// Options configure a Fake.
type Options struct {
	// ClientID is the only client the fake knows. Required.
	ClientID string
	// ClientSecret is required for Google and Naver. For Kakao, "" means
	// the app has the client secret switched off: a client_secret sent
	// anyway is ignored (as Kakao does); non-empty means it is required.
	ClientSecret string
	// Users who can sign in; zero means DefaultUsers(kind).
	Users []User
	// BaseURL is where the fake is served, without a trailing slash; it is
	// the OIDC issuer. New requires an absolute http(s) URL; Start sets it.
	BaseURL string
	// Now is the clock for codes, tokens and id_tokens; zero means
	// time.Now. Latency (SetLatency) uses real time.
	Now func() time.Time
	// AccessTokenTTL is the access token lifetime; zero means the
	// provider's own (Google 3599s, Naver 3600s, Kakao 21599s).
	AccessTokenTTL time.Duration
	// Logout makes an OpenID Connect fake (Google's kind) act as an issuer
	// with RP-initiated and back-channel logout, as Keycloak or Okta do
	// (Google itself has neither): end_session_endpoint at /logout, a sid in
	// every id_token (logout.go). Kakao's account logout is always there.
	Logout bool
	// OIDC shapes the generic OpenID Connect fake (kind "oidc", oidc.go).
	OIDC OIDCOptions
}

// Endpoints are the fake's URLs, with the field names of
// providers.Endpoints. Naver has no Issuer or JWKSURL; Kakao's UserinfoURL
// is /v2/user/me and its RevokeURL is /v1/user/logout.
type Endpoints struct{ AuthURL, TokenURL, UserinfoURL, Issuer, JWKSURL, RevokeURL, EndSessionURL string }

// AuthParams are the authorization request parameters bound to a code
// minted by IssueCode. State and Prompt are additions to the original API:
// Naver checks state at the token endpoint, and Google gives a second
// refresh token only after prompt=consent.
type AuthParams struct {
	Scope, Nonce, CodeChallenge, CodeChallengeMethod string
	AccessTypeOffline                                bool
	State, Prompt                                    string
}

// Request is one request the fake received, secrets included, so tests
// can assert what a client sent and where (query or body).
type Request struct {
	Path     string // below BaseURL's path, e.g. "/oauth/token"
	Method   string
	Form     url.Values // query and body
	PostForm url.Values // body only
	Header   http.Header
}

// maxRequests bounds the request log of a long-running demo.
const maxRequests = 1000

// maxBody bounds what the fake reads from a request body.
const maxBody = 64 << 10

// Fake is a fake Google, Naver or Kakao. It is safe for concurrent use.
type Fake struct {
	kind      string
	o         Options
	base      string // BaseURL without trailing slash
	basePath  string // BaseURL's path, "" at the root
	now       func() time.Time
	accessTTL time.Duration
	codeTTL   time.Duration
	created   time.Time // Kakao connected_at
	users     []User
	key       *signingKey
	srv       *httptest.Server
	sids      sids     // logout.go
	agreed    consents // silent.go

	mu          sync.Mutex
	autoApprove string
	deny        bool
	latency     time.Duration
	down        bool
	failRefresh map[string]bool
	requests    []Request
	revoked     []string
	codes       map[string]*authCode
	access      map[string]*accessToken
	refresh     map[string]*grant
	offline     map[string]bool // Google: user+client already got a refresh token
}

// New returns a fake of kind ("google", "naver" or "kakao") to be mounted
// at o.BaseURL. It does no network I/O.
func New(kind string, o Options) (*Fake, error) {
	if o.BaseURL == "" {
		return nil, errors.New("providertest: BaseURL is required")
	}
	f, err := newFake(kind, o)
	if err != nil {
		return nil, err
	}
	if err := f.setBase(o.BaseURL); err != nil {
		return nil, err
	}
	return f, nil
}

// Start serves a fake of kind on 127.0.0.1 at a random port and sets
// BaseURL to it. Close stops it.
func Start(kind string, o Options) (*Fake, error) {
	f, err := newFake(kind, o)
	if err != nil {
		return nil, err
	}
	// The listener exists before serving starts, so BaseURL is set before
	// any request can read it.
	srv := httptest.NewUnstartedServer(f)
	if err := f.setBase("http://" + srv.Listener.Addr().String()); err != nil {
		srv.Close()
		return nil, err
	}
	f.srv = srv
	srv.Start()
	return f, nil
}

func newFake(kind string, o Options) (*Fake, error) {
	f := &Fake{
		kind:        kind,
		o:           o,
		now:         o.Now,
		accessTTL:   o.AccessTokenTTL,
		failRefresh: map[string]bool{},
		codes:       map[string]*authCode{},
		access:      map[string]*accessToken{},
		refresh:     map[string]*grant{},
		offline:     map[string]bool{},
	}
	switch kind {
	case Google:
		f.codeTTL = 5 * time.Minute
		f.setDefaultTTL(3599 * time.Second)
	case Naver:
		f.codeTTL = 5 * time.Minute // unconfirmed; Naver does not say
		f.setDefaultTTL(3600 * time.Second)
	case Kakao:
		f.codeTTL = 10 * time.Minute
		f.setDefaultTTL(21599 * time.Second)
	case GitHub:
		f.codeTTL = 10 * time.Minute
		f.setDefaultTTL(8 * time.Hour) // OAuth app tokens do not expire; bounded here
	case OIDC:
		f.codeTTL = time.Minute // Keycloak's default
		f.setDefaultTTL(300 * time.Second)
		if m := o.OIDC.ClientAuth; m != "" && m != "client_secret_basic" && m != "client_secret_post" {
			return nil, fmt.Errorf("providertest: OIDC.ClientAuth %q", m)
		}
	default:
		return nil, fmt.Errorf("providertest: unknown kind %q", kind)
	}
	if o.ClientID == "" {
		return nil, errors.New("providertest: ClientID is required")
	}
	if o.ClientSecret == "" && kind != Kakao {
		return nil, fmt.Errorf("providertest: ClientSecret is required for %s", kind)
	}
	if f.now == nil {
		f.now = time.Now
	}
	f.users = slices.Clone(o.Users) // the caller may reuse its slice
	if len(f.users) == 0 {
		f.users = DefaultUsers(kind)
	}
	if err := validateUsers(kind, f.users); err != nil {
		return nil, err
	}
	key, err := processKey()
	if err != nil {
		return nil, err
	}
	f.key = key
	f.created = f.now().UTC().Truncate(time.Second)
	return f, nil
}

func (f *Fake) setDefaultTTL(d time.Duration) {
	if f.accessTTL <= 0 {
		f.accessTTL = d
	}
}

func (f *Fake) setBase(raw string) error {
	raw = strings.TrimRight(raw, "/")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("providertest: BaseURL %q is not an absolute http(s) URL", raw)
	}
	f.base = raw
	f.basePath = u.Path
	f.o.BaseURL = raw
	return nil
}

// Close stops the server started by Start; it is a no-op for New.
func (f *Fake) Close() {
	if f.srv != nil {
		f.srv.Close()
	}
}

// URL returns BaseURL (the OIDC issuer for Google and Kakao).
func (f *Fake) URL() string { return f.base }

// Kind returns "google", "naver" or "kakao".
func (f *Fake) Kind() string { return f.kind }

// Endpoints returns the fake's URLs.
func (f *Fake) Endpoints() Endpoints {
	b := f.base
	switch f.kind {
	case Google:
		e := Endpoints{AuthURL: b + "/o/oauth2/v2/auth", TokenURL: b + "/token",
			UserinfoURL: b + "/v1/userinfo", Issuer: b, JWKSURL: b + "/oauth2/v3/certs", RevokeURL: b + "/revoke"}
		if f.o.Logout {
			e.EndSessionURL = b + endSessionPath
		}
		return e
	case Naver:
		return Endpoints{AuthURL: b + "/oauth2.0/authorize", TokenURL: b + "/oauth2.0/token",
			UserinfoURL: b + "/v1/nid/me", RevokeURL: b + "/oauth2.0/revoke"}
	case GitHub:
		return Endpoints{AuthURL: b + "/login/oauth/authorize", TokenURL: b + "/login/oauth/access_token",
			UserinfoURL: b + "/user"}
	case OIDC:
		e := Endpoints{AuthURL: b + oidcPrefix + "/auth", TokenURL: b + oidcPrefix + "/token",
			UserinfoURL: b + oidcPrefix + "/userinfo", Issuer: b, JWKSURL: b + oidcPrefix + "/certs",
			RevokeURL: b + oidcPrefix + "/revoke"}
		if f.o.Logout {
			e.EndSessionURL = b + endSessionPath
		}
		return e
	default:
		return Endpoints{AuthURL: b + "/oauth/authorize", TokenURL: b + "/oauth/token",
			UserinfoURL: b + "/v2/user/me", Issuer: b, JWKSURL: b + "/.well-known/jwks.json", RevokeURL: b + "/v1/user/logout",
			EndSessionURL: b + "/oauth/logout"}
	}
}

// ServeHTTP routes by the path below BaseURL's path. A path without that
// prefix is taken as already stripped (http.StripPrefix).
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if f.basePath != "" && strings.HasPrefix(p, f.basePath+"/") {
		p = p[len(f.basePath):]
	}
	if r.Body != nil { // nil only when called directly with a hand-made request
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	}
	formErr := r.ParseForm()
	f.record(p, r)
	if !f.wait(r.Context()) {
		return
	}
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		f.serveDown(w)
		return
	}
	if formErr != nil {
		f.serveMalformed(w)
		return
	}
	switch f.kind {
	case Google:
		f.serveGoogle(w, r, p)
	case Naver:
		f.serveNaver(w, r, p)
	case OIDC:
		f.serveOIDC(w, r, p)
	case GitHub:
		f.serveGitHub(w, r, p)
	default:
		f.serveKakao(w, r, p)
	}
}

func (f *Fake) user(id string) (User, bool) {
	for _, u := range f.users {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}
