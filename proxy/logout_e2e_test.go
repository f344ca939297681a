package proxy_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers/providertest"
)

// End-to-end tests of logout that reaches the provider: RP-initiated
// logout to the fakes' end-session pages, OIDC back-channel logout tokens
// and Kakao's unlink callback, on two replicas sharing a redis-server.

// withCorp adds a generic OpenID Connect issuer "corp" (Keycloak-like, with
// end-session and back-channel logout) and turns on logout: true.
func withCorp(c *gatewayConfig) {
	c.logout = true
	c.instances = append(c.instances, instance{id: "corp", kind: providertest.OIDC})
}

// TestRPInitiatedLogout: with logout: true, signing out continues at the
// provider's end-session page, which sends the browser back to the
// gateway's signed-out page: the OIDC issuer with id_token_hint, Kakao's
// account logout with client_id and logout_redirect_uri.
func TestRPInitiatedLogout(t *testing.T) {
	rs := newReplicas(t, withCorp)
	corpUser := providertest.DefaultUsers(providertest.OIDC)[0]
	for _, tc := range []struct {
		provider, user string
		endPath        string
		want           url.Values
	}{
		{"corp", corpUser.ID, "", url.Values{"client_id": {"corp-client"},
			"post_logout_redirect_uri": {rs.lbURL + "/oauth2/signed_out"}}},
		{"kakao", providertest.DefaultUsers("kakao")[0].ID, "/oauth/logout", url.Values{"client_id": {"kakao-client"},
			"logout_redirect_uri": {rs.lbURL + "/oauth2/signed_out"}}},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			b := newBrowser(t)
			rs.login(t, b, tc.provider, tc.user, "/app/")
			cookie := sessionCookie(t, b, rs.a)
			csrf := rs.csrf(t, b, "/oauth2/sign_out")
			resp := rs.post(t, b, "/oauth2/sign_out", url.Values{"csrf": {csrf}})
			loc, _ := url.Parse(resp.Header.Get("Location"))
			fake := rs.a.fakes[tc.provider]
			end := fake.Endpoints().EndSessionURL
			if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), end+"?") {
				t.Fatalf("sign out: %d → %q, want 302 to %s", resp.StatusCode, resp.Header.Get("Location"), end)
			}
			q := loc.Query()
			for k, v := range tc.want {
				if q.Get(k) != v[0] {
					t.Errorf("%s = %q, want %q", k, q.Get(k), v[0])
				}
			}
			hint := q.Get("id_token_hint")
			if (tc.provider == "corp") != (hint != "") {
				t.Errorf("id_token_hint sent: %t, want %t (OIDC only)", hint != "", tc.provider == "corp")
			}
			if sessionAlive(t, rs.b, cookie) {
				t.Error("session alive after sign-out")
			}
			// Follow: the provider checks what it got and sends the browser
			// back to the gateway's signed-out page.
			resp2, body := b.get(loc.String())
			last := b.hops[len(b.hops)-1]
			if resp2.StatusCode != http.StatusOK || !strings.HasPrefix(last, rs.lbURL+"/oauth2/signed_out") || !strings.Contains(body, "Signed out") {
				t.Errorf("after the provider's logout: %d at %s", resp2.StatusCode, last)
			}
		})
	}
	// Naver has no logout: sign-out stays at the gateway.
	b := newBrowser(t)
	rs.login(t, b, "naver", providertest.DefaultUsers("naver")[0].ID, "/app/")
	resp := rs.post(t, b, "/oauth2/sign_out", url.Values{"csrf": {rs.csrf(t, b, "/oauth2/sign_out")}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/oauth2/sign_in" {
		t.Errorf("naver sign-out: %d → %q", resp.StatusCode, loc)
	}
}

// TestBackchannelLogout: a good logout token ends the sessions it names on
// the other replica (by sid: that session only; by sub: all of the user);
// a token bad in any way, or sent twice, gets 400 and ends nothing.
func TestBackchannelLogout(t *testing.T) {
	rs := newReplicas(t, withCorp)
	fake := rs.a.fakes["corp"]
	user := providertest.DefaultUsers(providertest.OIDC)[0]
	ctx := context.Background()
	endpoint := rs.a.URL + "/oauth2/backchannel_logout/corp"
	send := func(o providertest.LogoutTokenOptions) int {
		t.Helper()
		tok, err := fake.LogoutToken(o)
		if err != nil {
			t.Fatal(err)
		}
		st, err := fake.SendBackchannelLogout(ctx, endpoint, tok)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	first, second := newBrowser(t), newBrowser(t)
	rs.login(t, first, "corp", user.ID, "/app/")
	rs.login(t, second, "corp", user.ID, "/app/")
	c1, c2 := sessionCookie(t, first, rs.a), sessionCookie(t, second, rs.a)
	sids := fake.SessionIDs(user.ID)
	if len(sids) != 2 {
		t.Fatalf("issuer sessions %v, want 2", sids)
	}
	now := rs.a.now.Now()
	for _, tc := range []struct {
		name string
		o    providertest.LogoutTokenOptions
	}{
		{"unsigned", providertest.LogoutTokenOptions{Subject: user.ID, Unsigned: true}},
		{"wrong audience", providertest.LogoutTokenOptions{Subject: user.ID, Audience: "another-client"}},
		{"no events claim", providertest.LogoutTokenOptions{Subject: user.ID, NoEvents: true}},
		{"a nonce", providertest.LogoutTokenOptions{Subject: user.ID, Nonce: "n-1"}},
		{"expired", providertest.LogoutTokenOptions{Subject: user.ID, IssuedAt: now.Add(-10 * time.Minute), Expiry: now.Add(-8 * time.Minute)}},
		{"neither sub nor sid", providertest.LogoutTokenOptions{}},
	} {
		if st := send(tc.o); st != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", tc.name, st)
		}
		if !sessionAlive(t, rs.b, c1) || !sessionAlive(t, rs.b, c2) {
			t.Fatalf("%s: a session ended", tc.name)
		}
	}
	// By sid: only the first browser's session, seen at once on replica b.
	tok, _ := fake.LogoutToken(providertest.LogoutTokenOptions{SID: sids[0]})
	if st, _ := fake.SendBackchannelLogout(ctx, endpoint, tok); st != http.StatusOK {
		t.Fatalf("good token by sid: %d", st)
	}
	if sessionAlive(t, rs.b, c1) || !sessionAlive(t, rs.b, c2) {
		t.Errorf("after logout of sid 1: first alive %t, second alive %t; want false, true", sessionAlive(t, rs.b, c1), sessionAlive(t, rs.b, c2))
	}
	// The same token again (same jti), even on the other replica: refused.
	if st, _ := fake.SendBackchannelLogout(ctx, rs.b.URL+"/oauth2/backchannel_logout/corp", tok); st != http.StatusBadRequest {
		t.Errorf("replayed jti: %d, want 400", st)
	}
	// By sub: every session of the user.
	if st := send(providertest.LogoutTokenOptions{Subject: user.ID}); st != http.StatusOK {
		t.Fatalf("good token by sub: %d", st)
	}
	if sessionAlive(t, rs.a, c2) || sessionAlive(t, rs.b, c2) {
		t.Error("second session alive after logout by sub")
	}
	// Not an OIDC provider: no back-channel logout.
	if st := send(providertest.LogoutTokenOptions{Subject: user.ID}); st != http.StatusOK {
		t.Errorf("a fresh token for a user without sessions: %d, want 200", st)
	}
	tok, _ = fake.LogoutToken(providertest.LogoutTokenOptions{Subject: user.ID})
	if st, _ := fake.SendBackchannelLogout(ctx, rs.a.URL+"/oauth2/backchannel_logout/naver", tok); st != http.StatusNotFound {
		t.Errorf("naver back-channel logout: %d, want 404", st)
	}
}

// TestKakaoUnlinkCallback: Kakao's unlink callback with the right Admin
// key ends the user's sessions on the other replica and, with accounts,
// unlinks the identity; a wrong key gets 401 and changes nothing.
func TestKakaoUnlinkCallback(t *testing.T) {
	const adminKey = "kakao-admin-key-for-tests"
	rs := newReplicas(t, withAccounts(false), func(c *gatewayConfig) { c.adminKey = adminKey })
	fake := rs.a.fakes["kakao"]
	g := providertest.DefaultUsers("google")[0]
	k := providertest.DefaultUsers("kakao")[0]
	viaGoogle, viaKakao := newBrowser(t), newBrowser(t)
	rs.login(t, viaGoogle, "google", g.ID, "/app/")
	if resp, _ := rs.connect(t, viaGoogle, "kakao", k.ID); resp.StatusCode != http.StatusOK {
		t.Fatalf("connect: %d", resp.StatusCode)
	}
	rs.login(t, viaKakao, "kakao", k.ID, "/app/")
	kc := sessionCookie(t, viaKakao, rs.a)
	ctx := context.Background()
	for _, tc := range []struct {
		name, key, method string
		want              int
	}{
		{"wrong key", "not-the-admin-key", http.MethodGet, http.StatusUnauthorized},
		{"no key", "", http.MethodPost, http.StatusUnauthorized},
	} {
		st, err := fake.SendUnlink(ctx, rs.a.URL+"/oauth2/unlink/kakao", providertest.UnlinkCallback{UserID: k.ID, AdminKey: tc.key, Method: tc.method})
		if err != nil || st != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.name, st, err, tc.want)
		}
		if !sessionAlive(t, rs.b, kc) {
			t.Fatalf("%s: the Kakao session ended", tc.name)
		}
	}
	for _, m := range []string{http.MethodPost, http.MethodGet} {
		st, err := fake.SendUnlink(ctx, rs.a.URL+"/oauth2/unlink/kakao", providertest.UnlinkCallback{UserID: k.ID, AdminKey: adminKey, Method: m})
		if err != nil || st != http.StatusOK {
			t.Fatalf("right key by %s: %d %v, want 200 (also when nothing is left to end)", m, st, err)
		}
	}
	if sessionAlive(t, rs.b, kc) {
		t.Error("Kakao session alive on the other replica after the unlink callback")
	}
	if got := rs.app(t, viaGoogle).Header.Get("X-Forwarded-Identities"); got != "google:"+g.ID {
		t.Errorf("identities after Kakao unlinked the app: %q, want only Google", got)
	}
	// Malformed parameters with the right key: 400.
	req, _ := http.NewRequest(http.MethodGet, rs.a.URL+"/oauth2/unlink/kakao?app_id=1&user_id=abc&referrer_type=UNLINK_FROM_APPS", nil)
	req.Header.Set("Authorization", "KakaoAK "+adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad user_id: %d, want 400", resp.StatusCode)
	}
	if strings.Contains(rs.a.logs.String()+rs.b.logs.String(), adminKey) {
		t.Error("the admin key reached a log")
	}
}
