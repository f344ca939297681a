package providertest

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// kakaoOAuthError is kauth.kakao.com's error body: always with a KOE code.
type kakaoOAuthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	ErrorCode   string `json:"error_code,omitempty"`
}

// kakaoAPIError is kapi.kakao.com's error body.
type kakaoAPIError struct {
	Msg  string `json:"msg"`
	Code int    `json:"code"`
}

type kakaoTokenReply struct {
	TokenType             string `json:"token_type"`
	AccessToken           string `json:"access_token"`
	IDToken               string `json:"id_token,omitempty"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token,omitempty"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in,omitempty"`
	Scope                 string `json:"scope,omitempty"`
}

type kakaoClaims struct {
	Iss      string `json:"iss"`
	Aud      string `json:"aud"`
	Sub      string `json:"sub"`
	AuthTime int64  `json:"auth_time"`
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	Nonce    string `json:"nonce,omitempty"`
	Nickname string `json:"nickname,omitempty"`
	Picture  string `json:"picture,omitempty"`
	Email    string `json:"email,omitempty"`
}

const (
	// kakaoRefreshTTL is refresh_token_expires_in at issue: 60 days less 1s.
	kakaoRefreshTTL = 5183999 * time.Second
	// kakaoRotateUnder: a refresh returns a new refresh token only when the
	// old one has less than this left ("under a month").
	kakaoRotateUnder = 30 * 24 * time.Hour
	// kakaoConsentItems are the consent items of the fake app, granted at
	// login whatever scope asks for (Kakao asks the app's configured items).
	kakaoConsentItems = "profile_nickname profile_image account_email"
)

var (
	kakaoBadToken = kakaoAPIError{Msg: "this access token does not exist", Code: -401}
	kakaoExpired  = kakaoAPIError{Msg: "this access token is already expired", Code: -401}
	kakaoBadCreds = kakaoOAuthError{"invalid_client", "Bad client credentials", "KOE010"}
	// The refresh failure text is unconfirmed; KOE322 is documented.
	kakaoBadRefresh = kakaoOAuthError{"invalid_grant", "refresh token not found or expired", "KOE322"}
)

func (f *Fake) serveKakao(w http.ResponseWriter, r *http.Request, p string) {
	switch p {
	case "/oauth/authorize":
		f.serveAuthorize(w, r)
	case "/oauth/token":
		f.kakaoToken(w, r)
	case "/v2/user/me":
		f.kakaoMe(w, r)
	case "/v1/user/logout":
		f.kakaoLogout(w, r, false)
	case "/v1/user/unlink":
		f.kakaoLogout(w, r, true)
	case "/.well-known/openid-configuration":
		f.serveDiscovery(w, r)
	case "/.well-known/jwks.json":
		f.serveJWKS(w, r)
	case "/v1/oidc/userinfo":
		f.kakaoOIDCUserinfo(w, r)
	case "/oauth/logout":
		f.kakaoAccountLogout(w, r)
	default:
		writeJSON(w, http.StatusNotFound, kakaoAPIError{Msg: "not found", Code: -404})
	}
}

// kakaoToken is /oauth/token: a form POST with every credential in the
// body. HTTP Basic is refused with KOE010, a non-form body with
// invalid_request (no KOE code: unconfirmed).
func (f *Fake) kakaoToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, kakaoOAuthError{Error: "invalid_request", Description: "method not allowed"})
		return
	}
	if !isForm(r) {
		writeJSON(w, http.StatusBadRequest, kakaoOAuthError{Error: "invalid_request",
			Description: "Content-Type must be application/x-www-form-urlencoded"})
		return
	}
	if _, _, basic := r.BasicAuth(); basic {
		writeJSON(w, http.StatusUnauthorized, kakaoBadCreds)
		return
	}
	if r.PostForm.Get("client_id") != f.o.ClientID {
		writeJSON(w, http.StatusUnauthorized, kakaoOAuthError{"invalid_client",
			"Not exist client_id [" + r.PostForm.Get("client_id") + "]", "KOE101"})
		return
	}
	// With the secret switched off the app ignores a client_secret sent
	// anyway; switched on, it is required.
	if f.o.ClientSecret != "" && r.PostForm.Get("client_secret") != f.o.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, kakaoBadCreds)
		return
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		f.kakaoExchange(w, r)
	case "refresh_token":
		f.kakaoRefresh(w, r)
	default:
		writeJSON(w, http.StatusBadRequest, kakaoOAuthError{Error: "unsupported_grant_type",
			Description: "grant_type must be authorization_code or refresh_token"})
	}
}

// kakaoExchange answers a spent, expired or unknown code with KOE320,
// echoing the code as Kakao does (clients must not log error_description).
// A wrong redirect_uri gets KOE303 and a wrong PKCE verifier KOE320 with
// its own description (both unconfirmed).
func (f *Fake) kakaoExchange(w http.ResponseWriter, r *http.Request) {
	code := r.PostForm.Get("code")
	f.mu.Lock()
	c, ok := f.takeCodeLocked(code, f.o.ClientID)
	switch {
	case !ok:
		f.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, kakaoOAuthError{"invalid_grant",
			"authorization code not found for code=" + code, "KOE320"})
		return
	case r.PostForm.Get("redirect_uri") != c.redirectURI:
		f.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, kakaoOAuthError{"invalid_grant", "Redirect URI mismatch.", "KOE303"})
		return
	case !verifyPKCE(c, r.PostForm.Get("code_verifier")):
		f.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, kakaoOAuthError{"invalid_grant", "PKCE verification failed.", "KOE320"})
		return
	}
	u, _ := f.user(c.userID)
	c.scope = kakaoGranted(u, c.scope)
	g := newGrant(c)
	reply := kakaoTokenReply{TokenType: "bearer", AccessToken: f.mintAccessLocked(g),
		ExpiresIn: int64(f.accessTTL / time.Second), RefreshToken: f.mintRefreshLocked(g, kakaoRefreshTTL),
		RefreshTokenExpiresIn: int64(kakaoRefreshTTL / time.Second), Scope: g.scope}
	snap := *g
	f.mu.Unlock()
	if !f.kakaoIDToken(w, &snap, &reply) {
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

// kakaoGranted is the scope a token carries: what was asked plus the app's
// consent items, less what the user withheld.
func kakaoGranted(u User, asked string) string {
	var out []string
	for _, s := range strings.Fields(asked + " " + kakaoConsentItems) {
		switch {
		case slices.Contains(out, s):
		case (s == "profile_nickname" || s == "profile_image") && u.NoProfile:
		case s == "account_email" && u.Email == "":
		default:
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// kakaoRefresh rotates the refresh token only when it has under a month
// left; then the old one stops working.
func (f *Fake) kakaoRefresh(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	g, ok := f.lookupRefreshLocked(r.PostForm.Get("refresh_token"), f.o.ClientID)
	if !ok {
		f.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, kakaoBadRefresh)
		return
	}
	reply := kakaoTokenReply{TokenType: "bearer", AccessToken: f.mintAccessLocked(g),
		ExpiresIn: int64(f.accessTTL / time.Second)}
	if g.refreshExpires.Sub(f.now()) < kakaoRotateUnder {
		reply.RefreshToken = f.mintRefreshLocked(g, kakaoRefreshTTL)
		reply.RefreshTokenExpiresIn = int64(kakaoRefreshTTL / time.Second)
	}
	snap := *g
	f.mu.Unlock()
	snap.nonce = ""
	if !f.kakaoIDToken(w, &snap, &reply) {
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

// kakaoIDToken adds an id_token when openid was asked for; false means it
// already answered with an error. There is no email_verified claim.
func (f *Fake) kakaoIDToken(w http.ResponseWriter, g *grant, reply *kakaoTokenReply) bool {
	if !hasScope(g.scope, "openid") {
		return true
	}
	u, _ := f.user(g.userID)
	now := f.now()
	c := kakaoClaims{Iss: f.base, Aud: g.clientID, Sub: u.ID, AuthTime: g.authTime.Unix(),
		Exp: now.Add(f.accessTTL).Unix(), Iat: now.Unix(), Nonce: g.nonce}
	if !u.NoProfile {
		c.Nickname, c.Picture = u.Nickname, u.Picture
	}
	if u.Email != "" {
		c.Email = u.Email
	}
	tok, err := f.key.sign(c)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, kakaoOAuthError{Error: "server_error", Description: "signing failed"})
		return false
	}
	reply.IDToken = tok
	return true
}

// kakaoBearer authenticates a kapi request; ok false means it answered.
func (f *Fake) kakaoBearer(w http.ResponseWriter, r *http.Request, methods ...string) (*grant, bool) {
	allowed := false
	for _, m := range methods {
		allowed = allowed || r.Method == m
	}
	if !allowed {
		w.Header().Set("Allow", strings.Join(methods, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, kakaoAPIError{Msg: "method not allowed", Code: -2})
		return nil, false
	}
	f.mu.Lock()
	g, st := f.lookupAccessLocked(bearer(r))
	f.mu.Unlock()
	switch st {
	case tokenExpired:
		writeJSON(w, http.StatusUnauthorized, kakaoExpired)
		return nil, false
	case tokenUnknown:
		writeJSON(w, http.StatusUnauthorized, kakaoBadToken)
		return nil, false
	}
	return g, true
}

func (f *Fake) kakaoMe(w http.ResponseWriter, r *http.Request) {
	g, ok := f.kakaoBearer(w, r, http.MethodGet, http.MethodPost)
	if !ok {
		return
	}
	u, _ := f.user(g.userID)
	writeJSON(w, http.StatusOK, f.kakaoUser(u))
}

// kakaoLogout is /v1/user/logout (ends this token's grant) and, with
// unlink, /v1/user/unlink (ends every token of the user for this app).
// Both answer {"id":…}.
func (f *Fake) kakaoLogout(w http.ResponseWriter, r *http.Request, unlink bool) {
	g, ok := f.kakaoBearer(w, r, http.MethodPost)
	if !ok {
		return
	}
	tok := bearer(r)
	f.mu.Lock()
	if unlink {
		f.unlinkLocked(g.userID, g.clientID)
		f.revoked = append(f.revoked, tok)
	} else {
		f.revokeGrantLocked(g, tok)
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, kakaoID{ID: kakaoNumber(g.userID)})
}

// kakaoOIDCUserinfo needs a token with openid; without it Kakao's
// insufficient-scope answer (-402, HTTP 403; unconfirmed text).
func (f *Fake) kakaoOIDCUserinfo(w http.ResponseWriter, r *http.Request) {
	g, ok := f.kakaoBearer(w, r, http.MethodGet, http.MethodPost)
	if !ok {
		return
	}
	if !hasScope(g.scope, "openid") {
		writeJSON(w, http.StatusForbidden, kakaoAPIError{Msg: "insufficient scopes.", Code: -402})
		return
	}
	u, _ := f.user(g.userID)
	info := kakaoOIDCInfo{Sub: u.ID}
	if !u.NoProfile {
		info.Nickname, info.Picture = u.Nickname, u.Picture
	}
	if u.Email != "" {
		v := u.EmailVerified
		info.Email, info.EmailVerified = u.Email, &v
	}
	writeJSON(w, http.StatusOK, info)
}

// kakaoAccountLogout is the browser's /oauth/logout: it redirects to
// logout_redirect_uri at once (Kakao may show a page first).
func (f *Fake) kakaoAccountLogout(w http.ResponseWriter, r *http.Request) {
	if r.Form.Get("client_id") != f.o.ClientID {
		f.renderError(w, http.StatusBadRequest, "KOE101: 앱 키가 올바르지 않습니다. (invalid client_id)")
		return
	}
	a := authRequest{redirectURI: r.Form.Get("logout_redirect_uri"), state: r.Form.Get("state")}
	if !validRedirectURI(a.redirectURI) {
		f.renderError(w, http.StatusBadRequest, "KOE006: 등록되지 않은 로그아웃 리다이렉트 URI입니다.")
		return
	}
	f.redirectBack(w, r, a, nil)
}
