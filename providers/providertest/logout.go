package providertest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The providers' side of logout:
//
//   - RP-initiated logout. Kakao's account logout (/oauth/logout) is in
//     kakao.go. An OpenID Connect issuer with Options.Logout set (Keycloak,
//     Okta, Entra ID and most others; not Google, which has neither
//     end-session nor back-channel logout) advertises end_session_endpoint
//     and serves it at /logout: client_id, post_logout_redirect_uri,
//     id_token_hint (checked when sent) and state, then back to the client.
//   - Back-channel logout (OpenID Connect Back-Channel Logout 1.0): with
//     Options.Logout the issuer puts a sid in its id_tokens, and
//     LogoutToken and SendBackchannelLogout make and POST logout tokens,
//     bad ones included, the way such an issuer does.
//   - Kakao's unlink callback: SendUnlink calls the app's unlink URL as
//     Kakao does when a person disconnects the app or deletes the account.

// endSessionPath is where an OIDC issuer with Options.Logout serves RP-initiated logout.
const endSessionPath = "/logout"

// FakeAppID is the Kakao app ID the fake sends in unlink callbacks.
const FakeAppID = "1234567"

// sids remembers the session IDs put in id_tokens, per user, so tests can
// name one in a logout token.
type sids struct {
	mu     sync.Mutex
	byUser map[string][]string
}

// newSID is a new issuer session ID: one per login at the issuer, kept by
// refreshes, as issuers do.
func newSID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// sidFor returns g's sid and remembers it for SessionIDs.
func (f *Fake) sidFor(g *grant) string {
	f.sids.mu.Lock()
	defer f.sids.mu.Unlock()
	if f.sids.byUser == nil {
		f.sids.byUser = map[string][]string{}
	}
	list := f.sids.byUser[g.userID]
	for _, s := range list {
		if s == g.sid {
			return g.sid
		}
	}
	if len(list) >= 100 { // a long demo run must not grow without bound
		list = list[1:]
	}
	f.sids.byUser[g.userID] = append(list, g.sid)
	return g.sid
}

// SessionIDs returns the sids the issuer put in userID's id_tokens, oldest
// first (Options.Logout only).
func (f *Fake) SessionIDs(userID string) []string {
	f.sids.mu.Lock()
	defer f.sids.mu.Unlock()
	return append([]string(nil), f.sids.byUser[userID]...)
}

// serveEndSession is an OIDC issuer's end_session_endpoint (RP-Initiated
// Logout 1.0): GET or POST; an id_token_hint, when sent, must be one of
// ours for this client; post_logout_redirect_uri must be an absolute URL
// and comes with client_id or the hint. The browser goes back there with
// state.
func (f *Fake) serveEndSession(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hint := r.Form.Get("id_token_hint")
	if hint != "" && !f.ownIDToken(hint) {
		f.renderError(w, http.StatusBadRequest, "invalid id_token_hint")
		return
	}
	if cid := r.Form.Get("client_id"); cid != "" && cid != f.o.ClientID {
		f.renderError(w, http.StatusBadRequest, "unknown client_id")
		return
	}
	back := r.Form.Get("post_logout_redirect_uri")
	if back == "" {
		writeHTML(w, http.StatusOK, "<html><body><h1>You have been signed out.</h1></body></html>")
		return
	}
	if !validRedirectURI(back) || (hint == "" && r.Form.Get("client_id") == "") {
		f.renderError(w, http.StatusBadRequest, "invalid post_logout_redirect_uri")
		return
	}
	f.redirectBack(w, r, authRequest{redirectURI: back, state: r.Form.Get("state")}, nil)
}

// ownIDToken reports whether tok is an id_token this fake signed for its
// client (expired ones are fine: a hint may be old).
func (f *Fake) ownIDToken(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	payload, err := f.key.verify(tok)
	if err != nil {
		return false
	}
	var c struct {
		Iss string `json:"iss"`
		Aud string `json:"aud"`
	}
	return json.Unmarshal(payload, &c) == nil && c.Iss == f.base && c.Aud == f.o.ClientID
}

// LogoutTokenOptions shape a logout token. The zero value, with Subject or
// SID set, is a good token: signed, iss the fake, aud its client, iat and
// exp around now, a fresh jti and the backchannel-logout event. The other
// fields make the bad tokens a gateway must refuse.
type LogoutTokenOptions struct {
	Subject, SID string
	// JTI zero: a random one. Set it to send the same token twice.
	JTI string
	// Audience zero: the fake's client ID.
	Audience string
	// IssuedAt zero: now; Expiry zero: IssuedAt + 2 minutes.
	IssuedAt, Expiry time.Time
	// NoEvents leaves out the events claim; Nonce adds a nonce claim (an
	// id_token passed off as a logout token); Unsigned sends alg "none".
	NoEvents bool
	Nonce    string
	Unsigned bool
}

// LogoutToken makes a back-channel logout token as the issuer would.
func (f *Fake) LogoutToken(o LogoutTokenOptions) (string, error) {
	now := f.now()
	if o.IssuedAt.IsZero() {
		o.IssuedAt = now
	}
	if o.Expiry.IsZero() {
		o.Expiry = o.IssuedAt.Add(2 * time.Minute)
	}
	if o.Audience == "" {
		o.Audience = f.o.ClientID
	}
	if o.JTI == "" {
		o.JTI = f.accessValue()
	}
	c := map[string]any{"iss": f.base, "aud": o.Audience, "iat": o.IssuedAt.Unix(),
		"exp": o.Expiry.Unix(), "jti": o.JTI}
	if o.Subject != "" {
		c["sub"] = o.Subject
	}
	if o.SID != "" {
		c["sid"] = o.SID
	}
	if !o.NoEvents {
		c["events"] = map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}
	}
	if o.Nonce != "" {
		c["nonce"] = o.Nonce
	}
	if o.Unsigned {
		payload, err := json.Marshal(c)
		if err != nil {
			return "", err
		}
		head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"logout+jwt"}`))
		return head + "." + base64.RawURLEncoding.EncodeToString(payload) + ".", nil
	}
	return f.key.signTyped(c, "logout+jwt")
}

// SendBackchannelLogout POSTs token to the client's back-channel logout URI
// as the issuer does (form field logout_token) and returns the status.
func (f *Fake) SendBackchannelLogout(ctx context.Context, uri, token string) (int, error) {
	body := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(req)
}

// UnlinkCallback is one unlink callback Kakao sends.
type UnlinkCallback struct {
	// UserID is the Kakao user's ID.
	UserID string
	// ReferrerType zero: UNLINK_FROM_APPS (the person pressed 연결 끊기).
	ReferrerType string
	// AdminKey is sent as "Authorization: KakaoAK {AdminKey}".
	AdminKey string
	// Method zero: GET; Kakao uses GET or POST (form body).
	Method string
}

// SendUnlink calls the app's unlink callback URL as Kakao does, and ends
// the user's grants at the fake (the app is unlinked whatever the app
// answers). It returns the status.
func (f *Fake) SendUnlink(ctx context.Context, uri string, c UnlinkCallback) (int, error) {
	if f.kind != Kakao {
		return 0, errors.New("providertest: only Kakao sends unlink callbacks")
	}
	if c.ReferrerType == "" {
		c.ReferrerType = "UNLINK_FROM_APPS"
	}
	f.mu.Lock()
	f.unlinkLocked(c.UserID, f.o.ClientID)
	f.mu.Unlock()
	params := url.Values{"app_id": {FakeAppID}, "user_id": {c.UserID}, "referrer_type": {c.ReferrerType}}
	var req *http.Request
	var err error
	if c.Method == http.MethodPost {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(params.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		sep := "?"
		if strings.Contains(uri, "?") {
			sep = "&"
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, uri+sep+params.Encode(), nil)
	}
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "KakaoAK "+c.AdminKey)
	return send(req)
}

// send makes one server-to-server call with a deadline, as the providers
// do (Kakao waits 3 seconds for the unlink callback).
func send(req *http.Request) (int, error) {
	c := &http.Client{Timeout: 3 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return 0, fmt.Errorf("providertest: %s %s: %w", req.Method, req.URL.Path, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	return resp.StatusCode, nil
}
