package providertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// TestEndSession: the OIDC issuer's end-session page checks what it is
// sent; Google without Options.Logout has none, as the real one.
func TestEndSession(t *testing.T) {
	f, err := Start(Google, Options{ClientID: testClientID, ClientSecret: testSecret, Logout: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	plain, _ := start(t, Google, "")
	back := "http://127.0.0.1:9999/signed_out"
	for _, tc := range []struct {
		name   string
		url    string
		status int
		loc    string
	}{
		{"client_id and state", f.Endpoints().EndSessionURL + "?" + url.Values{"client_id": {testClientID},
			"post_logout_redirect_uri": {back}, "state": {"s"}}.Encode(), http.StatusFound, back + "?state=s"},
		{"forged hint", f.Endpoints().EndSessionURL + "?" + url.Values{"id_token_hint": {"a.b.c"},
			"post_logout_redirect_uri": {back}}.Encode(), http.StatusBadRequest, ""},
		{"other client", f.Endpoints().EndSessionURL + "?" + url.Values{"client_id": {"x"},
			"post_logout_redirect_uri": {back}}.Encode(), http.StatusBadRequest, ""},
		{"redirect without client", f.Endpoints().EndSessionURL + "?" + url.Values{
			"post_logout_redirect_uri": {back}}.Encode(), http.StatusBadRequest, ""},
		{"google has none", plain.URL() + "/logout", http.StatusNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, tc.url, "")
			if r.status != tc.status || r.header.Get("Location") != tc.loc {
				t.Errorf("%d → %q, want %d → %q", r.status, r.header.Get("Location"), tc.status, tc.loc)
			}
		})
	}
	if d := get(t, f.URL()+"/.well-known/openid-configuration", "").decode(t); d["end_session_endpoint"] != f.URL()+"/logout" || d["backchannel_logout_supported"] != true {
		t.Errorf("discovery: end_session_endpoint %v, backchannel_logout_supported %v", d["end_session_endpoint"], d["backchannel_logout_supported"])
	}
	if d := get(t, plain.URL()+"/.well-known/openid-configuration", "").decode(t); d["end_session_endpoint"] != nil {
		t.Errorf("Google's discovery names an end_session_endpoint: %v", d["end_session_endpoint"])
	}
}

// TestSendUnlinkAndLogoutToken: the fake calls back the way Kakao and an
// OIDC issuer do.
func TestSendUnlinkAndLogoutToken(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	k, _ := start(t, Kakao, "")
	ctx := context.Background()
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if st, err := k.SendUnlink(ctx, srv.URL+"/unlink", UnlinkCallback{UserID: "42", AdminKey: "ak", Method: m}); err != nil || st != 200 {
			t.Fatalf("SendUnlink %s: %d %v", m, st, err)
		}
	}
	g, _ := start(t, Google, "")
	tok, err := g.LogoutToken(LogoutTokenOptions{Subject: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := g.SendBackchannelLogout(ctx, srv.URL+"/bcl", tok); err != nil || st != 200 {
		t.Fatalf("SendBackchannelLogout: %d %v", st, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("%d callbacks", len(got))
	}
	for i, r := range got[:2] {
		if r.Header.Get("Authorization") != "KakaoAK ak" || r.Form.Get("user_id") != "42" ||
			r.Form.Get("app_id") != FakeAppID || r.Form.Get("referrer_type") != "UNLINK_FROM_APPS" {
			t.Errorf("unlink %d: %s %v %v", i, r.Method, r.Header.Get("Authorization"), r.Form)
		}
	}
	if got[0].Method != http.MethodGet || got[1].Method != http.MethodPost || got[1].PostForm.Get("user_id") != "42" {
		t.Errorf("methods %s %s, want GET then POST with a form body", got[0].Method, got[1].Method)
	}
	c := claims(t, g, got[2].PostForm.Get("logout_token"))
	if ev, ok := c["events"].(map[string]any); !ok || ev["http://schemas.openid.net/event/backchannel-logout"] == nil || c["sub"] != "u1" || c["jti"] == "" || c["nonce"] != nil {
		t.Errorf("logout token claims %v", c)
	}
}
