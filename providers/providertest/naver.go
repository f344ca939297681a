package providertest

import (
	"net/http"
	"strconv"
	"time"
)

// naverTokenReply has Naver's quirk: expires_in is a JSON string.
type naverTokenReply struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    string `json:"expires_in"`
}

type naverMe struct {
	ResultCode string        `json:"resultcode"`
	Message    string        `json:"message"`
	Response   *naverProfile `json:"response,omitempty"`
}

// naverProfile leaves out every field the user did not give or agree to.
type naverProfile struct {
	ID           string `json:"id"`
	Nickname     string `json:"nickname,omitempty"`
	Name         string `json:"name,omitempty"`
	Email        string `json:"email,omitempty"`
	ProfileImage string `json:"profile_image,omitempty"`
}

// Naver's token endpoint answers every error with HTTP 200. The
// descriptions for a bad client and a bad refresh token are unconfirmed.
var (
	naverNoSession      = oauthError{"invalid_request", "no valid data in session"}
	naverBadClient      = oauthError{"invalid_request", "wrong client id / client secret pair"}
	naverUnknownClient  = oauthError{"unauthorized_client", "wrong client id / client secret pair"}
	naverBadRefresh     = oauthError{"invalid_request", "invalid refresh token"}
	naverAuthFailed     = naverMe{ResultCode: "024", Message: "Authentication failed"}
	naverUnsupportedGTy = oauthError{"invalid_request", "unsupported grant_type"}
)

func (f *Fake) serveNaver(w http.ResponseWriter, r *http.Request, p string) {
	switch p {
	case "/oauth2.0/authorize":
		f.serveAuthorize(w, r)
	case "/oauth2.0/token":
		f.naverToken(w, r)
	case "/v1/nid/me":
		f.naverMe(w, r)
	case "/oauth2.0/revoke":
		f.naverRevoke(w, r)
	default:
		writeHTML(w, http.StatusNotFound, "<html><body><h1>404 Not Found</h1></body></html>")
	}
}

// naverClient checks client_id and client_secret from the query or the
// body: Naver takes both, and no HTTP Basic.
func (f *Fake) naverClient(r *http.Request) *oauthError {
	if r.Form.Get("client_id") != f.o.ClientID {
		return &naverUnknownClient
	}
	if r.Form.Get("client_secret") != f.o.ClientSecret {
		return &naverBadClient
	}
	return nil
}

// naverToken is /oauth2.0/token, by GET with a query or by POST.
func (f *Fake) naverToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, oauthError{"invalid_request", "method not allowed"})
		return
	}
	if e := f.naverClient(r); e != nil {
		writeJSON(w, http.StatusOK, e)
		return
	}
	switch r.Form.Get("grant_type") {
	case "authorization_code":
		f.naverExchange(w, r)
	case "refresh_token":
		f.naverRefresh(w, r)
	default:
		// grant_type=delete was dropped from Naver's docs; /oauth2.0/revoke
		// replaces it.
		writeJSON(w, http.StatusOK, naverUnsupportedGTy)
	}
}

// naverExchange checks state too: Naver's docs require it at the token
// endpoint; that it must equal the authorize state is this fake's strict
// reading (unconfirmed). Naver sends no redirect_uri here, so none is
// checked.
func (f *Fake) naverExchange(w http.ResponseWriter, r *http.Request) {
	state := r.Form.Get("state")
	f.mu.Lock()
	c, ok := f.takeCodeLocked(r.Form.Get("code"), f.o.ClientID)
	if !ok || state == "" || (c.state != "" && state != c.state) {
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, naverNoSession)
		return
	}
	g := newGrant(c)
	reply := naverTokenReply{AccessToken: f.mintAccessLocked(g), RefreshToken: f.mintRefreshLocked(g, 0),
		TokenType: "bearer", ExpiresIn: naverExpiresIn(f.accessTTL)}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, reply)
}

// naverRefresh returns a new access token and no refresh token: the old
// one stays valid.
func (f *Fake) naverRefresh(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	g, ok := f.lookupRefreshLocked(r.Form.Get("refresh_token"), f.o.ClientID)
	if !ok {
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, naverBadRefresh)
		return
	}
	reply := naverTokenReply{AccessToken: f.mintAccessLocked(g), TokenType: "bearer",
		ExpiresIn: naverExpiresIn(f.accessTTL)}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, reply)
}

func naverExpiresIn(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// naverMe is /v1/nid/me. A bad token gets HTTP 401 with resultcode 024.
func (f *Fake) naverMe(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, naverMe{ResultCode: "405", Message: "Method not allowed"})
		return
	}
	f.mu.Lock()
	g, st := f.lookupAccessLocked(bearer(r))
	f.mu.Unlock()
	if st != tokenOK {
		writeJSON(w, http.StatusUnauthorized, naverAuthFailed)
		return
	}
	u, _ := f.user(g.userID)
	writeJSON(w, http.StatusOK, naverMe{ResultCode: "00", Message: "success", Response: &naverProfile{
		ID: u.ID, Nickname: u.Nickname, Name: u.Name, Email: u.Email, ProfileImage: u.Picture}})
}

// naverRevoke is /oauth2.0/revoke: 200 with an empty body, also for an
// unknown token. Revoking disconnects the app from the user: every token
// of that user for this client ends. A bad client gets Naver's usual 200
// with an error body (unconfirmed).
func (f *Fake) naverRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, oauthError{"invalid_request", "method not allowed"})
		return
	}
	if e := f.naverClient(r); e != nil {
		writeJSON(w, http.StatusOK, e)
		return
	}
	tok := r.Form.Get("token")
	f.mu.Lock()
	if g, ok := f.grantOfLocked(tok); ok && g.clientID == f.o.ClientID {
		f.unlinkLocked(g.userID, g.clientID)
		f.revoked = append(f.revoked, tok)
	}
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}
