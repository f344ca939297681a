package providertest

import (
	"net/http"
	"net/url"
	"time"
)

// A generic OpenID Connect issuer, shaped like Keycloak (paths under
// /protocol/openid-connect/, UUID subjects, 5-minute access tokens) with
// the variations real issuers show, chosen by OIDCOptions: the one client
// authentication method the issuer advertises and accepts, PKCE advertised
// and then required, email_verified sent as the strings "true"/"false" (as
// older Okta and Entra deployments and Google's old tokens do), and thin
// id_tokens whose profile claims only userinfo tells. Refresh tokens come
// only with the offline_access scope (Okta, Entra). Revocation is RFC 7009
// and refuses an unauthenticated client with 401, as RFC 7009 issuers do.

// OIDC is the generic OpenID Connect kind.
const OIDC = "oidc"

// OIDCOptions shape a generic OpenID Connect fake.
type OIDCOptions struct {
	// ClientAuth is the one token-endpoint client authentication the
	// issuer advertises and accepts: "client_secret_basic" (zero, the
	// OpenID Connect default) or "client_secret_post".
	ClientAuth string
	// PKCE advertises S256 and then requires a code_challenge on every
	// authorization request. Without it, PKCE parameters are ignored, as
	// by an issuer that does not know them.
	PKCE bool
	// StringEmailVerified sends email_verified as "true"/"false".
	StringEmailVerified bool
	// ThinIDToken leaves e-mail, name and picture out of the id_token;
	// only userinfo has them.
	ThinIDToken bool
}

const oidcPrefix = "/protocol/openid-connect"

func (f *Fake) oidcAuth() string {
	if f.o.OIDC.ClientAuth == "" {
		return "client_secret_basic"
	}
	return f.o.OIDC.ClientAuth
}

func (f *Fake) serveOIDC(w http.ResponseWriter, r *http.Request, p string) {
	switch p {
	case "/.well-known/openid-configuration":
		f.serveDiscovery(w, r)
	case oidcPrefix + "/auth":
		f.serveAuthorize(w, r)
	case oidcPrefix + "/token":
		f.oidcToken(w, r)
	case oidcPrefix + "/userinfo":
		f.oidcUserinfo(w, r)
	case oidcPrefix + "/certs":
		f.serveJWKS(w, r)
	case oidcPrefix + "/revoke":
		f.oidcRevoke(w, r)
	case endSessionPath:
		if !f.o.Logout {
			writeJSON(w, http.StatusNotFound, oauthError{"not_found", "Not Found"})
			return
		}
		f.serveEndSession(w, r)
	default:
		writeJSON(w, http.StatusNotFound, oauthError{"not_found", "Not Found"})
	}
}

// oidcClient authenticates the client with the advertised method only:
// credentials sent the other way are refused, as Okta and Keycloak refuse
// a method the client is not registered for.
func (f *Fake) oidcClient(r *http.Request) (string, *oauthError) {
	bid, bsecret, basic := r.BasicAuth()
	pid, psecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	var id, secret string
	switch f.oidcAuth() {
	case "client_secret_basic":
		if !basic || psecret != "" {
			return "", &oauthError{"invalid_client", "Client authentication with client_secret_basic required"}
		}
		// RFC 6749 §2.3.1: form-encoded inside Basic.
		var err1, err2 error
		id, err1 = url.QueryUnescape(bid)
		secret, err2 = url.QueryUnescape(bsecret)
		if err1 != nil || err2 != nil || (pid != "" && pid != id) {
			return "", &oauthError{"invalid_client", "Invalid client credentials"}
		}
	default:
		if basic || psecret == "" {
			return "", &oauthError{"invalid_client", "Client authentication with client_secret_post required"}
		}
		id, secret = pid, psecret
	}
	if id != f.o.ClientID || secret != f.o.ClientSecret {
		return "", &oauthError{"invalid_client", "Invalid client credentials"}
	}
	return id, nil
}

type oidcTokenReply struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope"`
}

func (f *Fake) oidcToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, oauthError{"invalid_request", "HTTP method not allowed"})
		return
	}
	if !isForm(r) {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "Invalid content type"})
		return
	}
	clientID, e := f.oidcClient(r)
	if e != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="oidc"`)
		writeJSON(w, http.StatusUnauthorized, e)
		return
	}
	badGrant := oauthError{"invalid_grant", "Code not valid"}
	var g *grant
	var nonce string
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		f.mu.Lock()
		c, ok := f.takeCodeLocked(r.PostForm.Get("code"), clientID)
		switch {
		case !ok:
			f.mu.Unlock()
			writeJSON(w, http.StatusBadRequest, badGrant)
			return
		case r.PostForm.Get("redirect_uri") != c.redirectURI:
			f.mu.Unlock()
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "Incorrect redirect_uri"})
			return
		case c.challenge != "" && !verifyPKCE(c, r.PostForm.Get("code_verifier")):
			f.mu.Unlock()
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "PKCE verification failed"})
			return
		}
		g = newGrant(c)
		nonce = c.nonce
		if hasScope(c.scope, "offline_access") {
			f.mintRefreshLocked(g, 0)
		}
		f.mu.Unlock()
	case "refresh_token":
		f.mu.Lock()
		var ok bool
		g, ok = f.lookupRefreshLocked(r.PostForm.Get("refresh_token"), clientID)
		f.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "Invalid refresh token"})
			return
		}
	default:
		writeJSON(w, http.StatusBadRequest, oauthError{"unsupported_grant_type", "Unsupported grant_type"})
		return
	}
	f.mu.Lock()
	reply := oidcTokenReply{AccessToken: f.mintAccessLocked(g), ExpiresIn: int64(f.accessTTL / time.Second),
		RefreshToken: g.refreshToken, TokenType: "Bearer", Scope: g.scope}
	snap := *g
	f.mu.Unlock()
	snap.nonce = nonce // a refreshed id_token carries no nonce
	tok, err := f.oidcIDToken(&snap, reply.AccessToken)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, oauthError{"server_error", "signing failed"})
		return
	}
	reply.IDToken = tok
	writeJSON(w, http.StatusOK, reply)
}

// oidcInfo is what the issuer tells about u under scope; email_verified
// is a bool or, with StringEmailVerified, a string.
func (f *Fake) oidcInfo(u User, scope string) map[string]any {
	m := map[string]any{"sub": u.ID}
	if hasScope(scope, "profile") {
		if u.Name != "" {
			m["name"] = u.Name
			m["preferred_username"] = u.Nickname
		}
		if u.Picture != "" {
			m["picture"] = u.Picture
		}
	}
	if hasScope(scope, "email") && u.Email != "" {
		m["email"] = u.Email
		if f.o.OIDC.StringEmailVerified {
			m["email_verified"] = map[bool]string{true: "true", false: "false"}[u.EmailVerified]
		} else {
			m["email_verified"] = u.EmailVerified
		}
	}
	return m
}

func (f *Fake) oidcIDToken(g *grant, access string) (string, error) {
	u, _ := f.user(g.userID)
	now := f.now()
	c := map[string]any{"iss": f.base, "aud": g.clientID, "azp": g.clientID, "sub": u.ID,
		"at_hash": atHash(access), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"auth_time": g.authTime.Unix(), "typ": "ID"}
	if g.nonce != "" {
		c["nonce"] = g.nonce
	}
	if !f.o.OIDC.ThinIDToken {
		for k, v := range f.oidcInfo(u, g.scope) {
			c[k] = v
		}
	}
	if f.o.Logout {
		c["sid"] = f.sidFor(g)
	}
	return f.key.sign(c)
}

func (f *Fake) oidcUserinfo(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	g, st := f.lookupAccessLocked(bearer(r))
	f.mu.Unlock()
	if st != tokenOK {
		w.Header().Set("WWW-Authenticate", `Bearer realm="oidc", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, oauthError{"invalid_token", "Token verification failed"})
		return
	}
	u, _ := f.user(g.userID)
	writeJSON(w, http.StatusOK, f.oidcInfo(u, g.scope))
}

// oidcRevoke is RFC 7009: the client authenticates as at the token
// endpoint; an unknown or spent token is still a 200.
func (f *Fake) oidcRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, oauthError{"invalid_request", "HTTP method not allowed"})
		return
	}
	if _, e := f.oidcClient(r); e != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="oidc"`)
		writeJSON(w, http.StatusUnauthorized, e)
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "Token not provided"})
		return
	}
	f.mu.Lock()
	if g, ok := f.grantOfLocked(tok); ok {
		f.revokeGrantLocked(g, tok)
	}
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (f *Fake) oidcDiscovery(d discovery) discovery {
	e := f.Endpoints()
	d.UserinfoEndpoint = e.UserinfoURL
	d.RevocationEndpoint = e.RevokeURL
	d.Scopes = []string{"openid", "email", "profile", "offline_access"}
	d.TokenEndpointAuth = []string{f.oidcAuth()}
	d.RevocationEndpointAuth = []string{f.oidcAuth()}
	d.Claims = []string{"iss", "aud", "azp", "sub", "exp", "iat", "auth_time", "nonce", "at_hash",
		"email", "email_verified", "name", "preferred_username", "picture"}
	if f.o.OIDC.PKCE {
		d.CodeChallengeMethods = []string{"S256"}
	}
	if f.o.Logout {
		d.EndSessionEndpoint = e.EndSessionURL
		d.BackchannelLogoutSupported, d.BackchannelLogoutSession = true, true
	}
	return d
}
