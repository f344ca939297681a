package providertest

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// oauthError is the RFC 6749 error body of Google and Naver.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

type googleTokenReply struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
	IDToken      string `json:"id_token,omitempty"`
}

type googleClaims struct {
	Iss           string `json:"iss"`
	Azp           string `json:"azp"`
	Aud           string `json:"aud"`
	Sub           string `json:"sub"`
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	AtHash        string `json:"at_hash,omitempty"`
	Nonce         string `json:"nonce,omitempty"`
	Name          string `json:"name,omitempty"`
	Picture       string `json:"picture,omitempty"`
	GivenName     string `json:"given_name,omitempty"`
	FamilyName    string `json:"family_name,omitempty"`
	Sid           string `json:"sid,omitempty"` // only with Options.Logout
	Iat           int64  `json:"iat"`
	Exp           int64  `json:"exp"`
}

// googleUserinfo is /v1/userinfo; the profile and e-mail parts follow the
// granted scopes, as Google's do.
type googleUserinfo struct {
	Sub           string `json:"sub"`
	Name          string `json:"name,omitempty"`
	GivenName     string `json:"given_name,omitempty"`
	FamilyName    string `json:"family_name,omitempty"`
	Picture       string `json:"picture,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
}

const (
	googleEmailScope   = "https://www.googleapis.com/auth/userinfo.email"
	googleProfileScope = "https://www.googleapis.com/auth/userinfo.profile"
)

func (f *Fake) serveGoogle(w http.ResponseWriter, r *http.Request, p string) {
	switch p {
	case "/.well-known/openid-configuration":
		f.serveDiscovery(w, r)
	case "/o/oauth2/v2/auth":
		f.serveAuthorize(w, r)
	case "/token":
		f.googleToken(w, r)
	case "/v1/userinfo":
		f.googleUserinfo(w, r)
	case "/oauth2/v3/certs":
		f.serveJWKS(w, r)
	case "/revoke":
		f.googleRevoke(w, r)
	case endSessionPath:
		if !f.o.Logout {
			writeHTML(w, http.StatusNotFound, "<html><body><h1>404. That’s an error.</h1></body></html>")
			return
		}
		f.serveEndSession(w, r)
	default:
		writeHTML(w, http.StatusNotFound, "<html><body><h1>404. That’s an error.</h1></body></html>")
	}
}

// googleScope spells scopes the way Google's token reply and callback do:
// "email" and "profile" come back as their full URLs.
func googleScope(s string) string {
	fields := strings.Fields(s)
	for i, sc := range fields {
		switch sc {
		case "email":
			fields[i] = googleEmailScope
		case "profile":
			fields[i] = googleProfileScope
		}
	}
	return strings.Join(fields, " ")
}

// hasScope reports whether the space-separated scope holds any of names.
func hasScope(scope string, names ...string) bool {
	for _, s := range strings.Fields(scope) {
		for _, n := range names {
			if s == n {
				return true
			}
		}
	}
	return false
}

func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// googleClient authenticates the client by client_secret_basic or
// client_secret_post; Google takes both.
func (f *Fake) googleClient(r *http.Request) (string, *oauthError) {
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if bid, bsecret, ok := r.BasicAuth(); ok {
		// RFC 6749 §2.3.1: form-encoded inside Basic.
		if v, err := url.QueryUnescape(bid); err == nil {
			bid = v
		}
		if v, err := url.QueryUnescape(bsecret); err == nil {
			bsecret = v
		}
		if id != "" && id != bid {
			return "", &oauthError{"invalid_request", "client_id in body and header differ"}
		}
		id, secret = bid, bsecret
	}
	if id != f.o.ClientID {
		return "", &oauthError{"invalid_client", "The OAuth client was not found."}
	}
	if secret != f.o.ClientSecret {
		return "", &oauthError{"invalid_client", "Unauthorized"}
	}
	return id, nil
}

func (f *Fake) googleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, oauthError{"invalid_request", "Invalid request method"})
		return
	}
	if !isForm(r) {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "Invalid Content-Type"})
		return
	}
	clientID, e := f.googleClient(r)
	if e != nil {
		status := http.StatusUnauthorized
		if e.Error == "invalid_request" {
			status = http.StatusBadRequest
		}
		writeJSON(w, status, e)
		return
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		f.googleExchange(w, r, clientID)
	case "refresh_token":
		f.googleRefresh(w, r, clientID)
	case "":
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "Missing required parameter: grant_type"})
	default:
		writeJSON(w, http.StatusBadRequest, oauthError{"unsupported_grant_type", "Invalid grant_type: " + gt})
	}
}

func (f *Fake) googleExchange(w http.ResponseWriter, r *http.Request, clientID string) {
	code := r.PostForm.Get("code")
	if code == "" {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "Missing required parameter: code"})
		return
	}
	badGrant := oauthError{"invalid_grant", "Bad Request"}
	f.mu.Lock()
	// The code is spent by any attempt, even a failed one.
	c, ok := f.takeCodeLocked(code, clientID)
	switch {
	case !ok:
		f.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, badGrant)
		return
	case r.PostForm.Get("redirect_uri") != c.redirectURI:
		f.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, oauthError{"redirect_uri_mismatch", "Bad Request"})
		return
	case c.challenge != "" && r.PostForm.Get("code_verifier") == "":
		f.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "Missing code verifier."})
		return
	case !verifyPKCE(c, r.PostForm.Get("code_verifier")):
		f.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, badGrant)
		return
	}
	g := newGrant(c)
	reply := googleTokenReply{AccessToken: f.mintAccessLocked(g), ExpiresIn: int64(f.accessTTL / time.Second),
		Scope: googleScope(c.scope), TokenType: "Bearer"}
	// A refresh token comes with the first offline consent only, or again
	// after prompt=consent.
	key := c.userID + " " + c.clientID
	if c.offline && (c.promptConsent || !f.offline[key]) {
		reply.RefreshToken = f.mintRefreshLocked(g, 0)
		f.offline[key] = true
	}
	snap := *g // read after unlock; the grant may be revoked meanwhile
	f.mu.Unlock()
	if !f.googleIDToken(w, &snap, &reply) {
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

func (f *Fake) googleRefresh(w http.ResponseWriter, r *http.Request, clientID string) {
	f.mu.Lock()
	g, ok := f.lookupRefreshLocked(r.PostForm.Get("refresh_token"), clientID)
	if !ok {
		f.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "Token has been expired or revoked."})
		return
	}
	reply := googleTokenReply{AccessToken: f.mintAccessLocked(g), ExpiresIn: int64(f.accessTTL / time.Second),
		Scope: googleScope(g.scope), TokenType: "Bearer"}
	rg := *g
	f.mu.Unlock()
	// A refreshed id_token has no nonce: nobody sent one.
	rg.nonce = ""
	if !f.googleIDToken(w, &rg, &reply) {
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

// googleIDToken adds an id_token when openid was granted; false means it
// already answered with an error.
func (f *Fake) googleIDToken(w http.ResponseWriter, g *grant, reply *googleTokenReply) bool {
	if !hasScope(g.scope, "openid") {
		return true
	}
	u, _ := f.user(g.userID)
	now := f.now()
	c := googleClaims{Iss: f.base, Azp: g.clientID, Aud: g.clientID, Sub: u.ID,
		AtHash: atHash(reply.AccessToken), Nonce: g.nonce,
		Iat: now.Unix(), Exp: now.Add(time.Hour).Unix()}
	info := f.googleInfo(u, g.scope)
	c.Email, c.EmailVerified = info.Email, info.EmailVerified
	c.Name, c.Picture, c.GivenName, c.FamilyName = info.Name, info.Picture, info.GivenName, info.FamilyName
	if f.o.Logout {
		c.Sid = f.sidFor(g)
	}
	tok, err := f.key.sign(c)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, oauthError{"server_error", "signing failed"})
		return false
	}
	reply.IDToken = tok
	return true
}

// googleInfo is what Google tells about u under scope.
func (f *Fake) googleInfo(u User, scope string) googleUserinfo {
	info := googleUserinfo{Sub: u.ID}
	if hasScope(scope, "profile", googleProfileScope) {
		info.Name, info.Picture = u.Name, u.Picture
		info.GivenName, info.FamilyName = splitName(u.Name)
	}
	if hasScope(scope, "email", googleEmailScope) && u.Email != "" {
		v := u.EmailVerified
		info.Email, info.EmailVerified = u.Email, &v
	}
	return info
}

// bearer returns the token of an "Authorization: Bearer" header; the
// scheme is case-insensitive (RFC 6750).
func bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

func (f *Fake) googleUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, oauthError{"invalid_request", "Invalid request method"})
		return
	}
	f.mu.Lock()
	g, st := f.lookupAccessLocked(bearer(r))
	f.mu.Unlock()
	if st != tokenOK {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, oauthError{"invalid_request", "Invalid Credentials"})
		return
	}
	u, _ := f.user(g.userID)
	writeJSON(w, http.StatusOK, f.googleInfo(u, g.scope))
}

// googleRevoke takes an access or refresh token (body or query) and ends
// the whole grant, as Google does; the next offline consent gets a new
// refresh token.
func (f *Fake) googleRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, oauthError{"invalid_request", "Invalid request method"})
		return
	}
	tok := r.Form.Get("token")
	f.mu.Lock()
	g, ok := f.grantOfLocked(tok)
	if ok {
		f.revokeGrantLocked(g, tok)
		delete(f.offline, g.userID+" "+g.clientID)
	}
	f.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_token", "Token expired or revoked"})
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
}
