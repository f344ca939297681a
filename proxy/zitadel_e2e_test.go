package proxy_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/proxy"
)

// TestZitadelLoginEndToEnd signs in through zitadel's example OP
// configured by its issuer alone: discovery, PKCE S256 (which zitadel
// advertises, and then requires the verifier for), client_secret_basic,
// the nonce, e-mail and name from userinfo (zitadel's id_token carries
// neither), a Hangul deep link with & in its query restored exactly; then
// RP-initiated logout at zitadel's end_session_endpoint and back, and the
// access token revoked at zitadel.
func TestZitadelLoginEndToEnd(t *testing.T) {
	revokes := make(chan revoked, 4)
	g, op := zitadelGateway(t, gatewayConfig{logout: true, revokeTokens: true,
		wrapProvider: func(p proxy.Provider) proxy.Provider {
			return &revokeWatch{Provider: p.(*providers.Provider), done: revokes}
		}}, instance{display: "ZITADEL"})

	path, query := "/app/보고서/월간", "q="+url.QueryEscape("매출 & 비용")+"&page=2"
	deepLink := path + "?" + query
	b := newBrowser(t)
	authz, code, _, body := zitadelLogin(t, g, op, b, "test-user@127.0.0.1", deepLink)
	for k, want := range map[string]string{
		"client_id": "zitadel-client", "response_type": "code", "code_challenge_method": "S256",
		"redirect_uri": g.URL + "/oauth2/callback/zitadel",
	} {
		if got := authz.Get(k); got != want {
			t.Errorf("authorization request: %s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"code_challenge", "nonce", "state"} {
		if authz.Get(k) == "" {
			t.Errorf("authorization request without %s", k)
		}
	}
	want := g.URL + (&url.URL{Path: path, RawQuery: query}).String()
	if last := b.hops[len(b.hops)-1]; last != want {
		t.Errorf("landed on %s, want the deep link %s", last, want)
	}
	e := decodeEcho(t, body)
	if want := (&url.URL{Path: path}).EscapedPath() + "?" + query; e.RequestURI != want {
		t.Errorf("upstream got %s, want %s", e.RequestURI, want)
	}
	// As zitadel's example storage states them for its user id1.
	for k, want := range map[string]string{
		"X-Forwarded-User":               "zitadel:id1",
		"X-Forwarded-Provider":           "zitadel",
		"X-Forwarded-Email":              "test-user@zitadel.ch",
		"X-Forwarded-Email-Verified":     "true",
		"X-Forwarded-Preferred-Username": "Test User",
	} {
		if got := e.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}

	// The session holds zitadel's access token, which zitadel still takes.
	sess, err := g.store.ListUser(context.Background(), "zitadel:id1")
	if err != nil || len(sess) != 1 {
		t.Fatalf("sessions of zitadel:id1: %d (err %v), want 1", len(sess), err)
	}
	if st := zitadelUserinfo(t, op, sess[0].AccessToken); st != http.StatusOK {
		t.Fatalf("zitadel's userinfo with the session's access token: %d, want 200", st)
	}

	// Sign out: the gateway ends its session, then zitadel's end-session
	// endpoint checks the id_token_hint and the registered post-logout URI
	// and sends the browser back to the signed-out page.
	_, page := b.get(g.URL + "/oauth2/sign_out")
	csrf := csrfRE.FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("no csrf token on the sign-out page:\n%s", page)
	}
	out := b.do(http.MethodPost, g.URL+"/oauth2/sign_out", strings.NewReader(url.Values{"csrf": {csrf[1]}}.Encode()))
	out.Body.Close()
	loc, _ := url.Parse(out.Header.Get("Location"))
	if out.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), op.issuer+"end_session?") {
		t.Fatalf("sign out: %d → %q, want zitadel's end_session_endpoint", out.StatusCode, out.Header.Get("Location"))
	}
	q := loc.Query()
	if q.Get("id_token_hint") == "" || q.Get("post_logout_redirect_uri") != g.URL+"/oauth2/signed_out" {
		t.Errorf("end-session request %v: want id_token_hint and post_logout_redirect_uri %s/oauth2/signed_out", q, g.URL)
	}
	resp, body := b.get(loc.String())
	if last := b.hops[len(b.hops)-1]; resp.StatusCode != http.StatusOK || !strings.HasPrefix(last, g.URL+"/oauth2/signed_out") ||
		!strings.Contains(body, "Signed out") {
		t.Errorf("after zitadel's logout: %d at %s, want the signed-out page (hops %v)", resp.StatusCode, last, b.hops)
	}
	if resp, _ := b.get(g.URL + deepLink); !strings.HasPrefix(b.hops[len(b.hops)-1], g.URL+"/oauth2/sign_in") {
		t.Errorf("after sign-out the deep link answered %d at %s, want the sign-in page", resp.StatusCode, b.hops[len(b.hops)-1])
	}

	// RFC 7009 revocation in the background, authenticated as zitadel
	// advertises: afterwards zitadel's userinfo refuses the access token.
	var rv revoked
	select {
	case rv = <-revokes:
	case <-time.After(10 * time.Second):
		t.Fatal("no token revocation after sign-out")
	}
	if rv.err != nil {
		t.Errorf("revoking at zitadel: %v", rv.err)
	}
	if rv.tok.AccessToken != sess[0].AccessToken {
		t.Errorf("revoked another access token than the session's")
	}
	// zitadel answers 403 for a token it no longer knows.
	if st := zitadelUserinfo(t, op, rv.tok.AccessToken); st == http.StatusOK {
		t.Errorf("zitadel's userinfo still takes the access token after revocation")
	}

	// Nothing zitadel handed out reached the gateway's log.
	logs := g.logs.String()
	for what, v := range map[string]string{"code": code, "id_token": q.Get("id_token_hint"), "access token": sess[0].AccessToken} {
		if v != "" && strings.Contains(logs, v) {
			t.Errorf("zitadel's %s leaked into the gateway's log", what)
		}
	}
}

// TestZitadelRefresh: with offline_access zitadel hands out a refresh
// token; when the access token is due, the gateway renews it at zitadel and
// the session goes on with zitadel's new tokens. Sign-out revokes the
// refresh token, and with it zitadel drops the access token.
func TestZitadelRefresh(t *testing.T) {
	revokes := make(chan revoked, 4)
	g, op := zitadelGateway(t, gatewayConfig{refresh: time.Minute, revokeTokens: true,
		wrapProvider: func(p proxy.Provider) proxy.Provider {
			return &revokeWatch{Provider: p.(*providers.Provider), done: revokes}
		}}, instance{scopes: []string{"openid", "email", "profile", "offline_access"}})
	b := newBrowser(t)
	zitadelLogin(t, g, op, b, "test-user2", "/app/")
	before, err := g.store.ListUser(context.Background(), "zitadel:id2")
	if err != nil || len(before) != 1 || before[0].RefreshToken == "" {
		t.Fatalf("sessions of zitadel:id2 with a refresh token: %d (err %v), want 1", len(before), err)
	}
	// zitadel's access tokens last 5 minutes.
	g.now.Advance(4*time.Minute + 30*time.Second)
	resp, body := b.get(g.URL + "/app/")
	if resp.StatusCode != http.StatusOK || decodeEcho(t, body).Header.Get("X-Forwarded-User") != "zitadel:id2" {
		t.Fatalf("after the refresh: %d at %s", resp.StatusCode, b.hops[len(b.hops)-1])
	}
	after, err := g.store.ListUser(context.Background(), "zitadel:id2")
	if err != nil || len(after) != 1 {
		t.Fatalf("sessions of zitadel:id2 after the refresh: %d (err %v), want 1", len(after), err)
	}
	if after[0].AccessToken == before[0].AccessToken || after[0].RefreshToken == "" {
		t.Fatalf("tokens not renewed (gateway log:\n%s)", g.logs.String())
	}
	if st := zitadelUserinfo(t, op, after[0].AccessToken); st != http.StatusOK {
		t.Errorf("zitadel's userinfo with the renewed access token: %d, want 200", st)
	}

	signOut(t, g, b, false)
	select {
	case rv := <-revokes:
		if rv.err != nil || rv.tok.RefreshToken != after[0].RefreshToken {
			t.Errorf("revoking at zitadel: %v (the session's refresh token: %t)", rv.err, rv.tok.RefreshToken == after[0].RefreshToken)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no token revocation after sign-out")
	}
	if st := zitadelUserinfo(t, op, after[0].AccessToken); st == http.StatusOK {
		t.Errorf("zitadel's userinfo still takes the access token after its refresh token was revoked")
	}
}

// TestZitadelIssuerMismatch: zitadel's example OP names its issuer with a
// trailing slash. Configured without it, discovery fails (the id_token's
// iss would not match either), and the error names the issuer to set in
// full.
func TestZitadelIssuerMismatch(t *testing.T) {
	op := startZitadel(t, "http://127.0.0.1:9", "zitadel") // no login: no gateway
	configured := strings.TrimSuffix(op.issuer, "/")
	p, err := providers.New(providers.Options{Name: "zitadel", Kind: "oidc", ClientID: "zitadel-client",
		ClientSecret: "zitadel-secret", RedirectURL: "http://127.0.0.1:9/oauth2/callback/zitadel",
		Endpoints: providers.Endpoints{Issuer: configured}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.AuthURLContext(context.Background(), p.NewAuthRequest())
	if !errors.Is(err, providers.ErrProvider) {
		t.Fatalf("issuer %s: got %v, want ErrProvider", configured, err)
	}
	if !strings.Contains(err.Error(), strconv.Quote(op.issuer)) {
		t.Errorf("error %q does not name zitadel's issuer %q", err, op.issuer)
	}
}
