package proxy_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/proxy"
	"github.com/socialgate/socialgate/session"
)

// End-to-end tests of linked accounts and the person's own sessions: two
// replicas behind a load balancer on one redis-server (miniredis with
// -short), the fake providers, real HTTP.

func withAccounts(linkByEmail bool) func(*gatewayConfig) {
	return func(c *gatewayConfig) {
		c.accounts = session.AccountsOptions{Enabled: true, LinkByEmail: linkByEmail}
	}
}

// app fetches the protected upstream through the load balancer and returns
// what the upstream was told.
func (rs *replicas) app(t *testing.T, b *browser) echo {
	t.Helper()
	resp, body := b.get(rs.lbURL + "/app/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /app/: %d after %v", resp.StatusCode, b.hops)
	}
	return decodeEcho(t, body)
}

// connect links provider's userID to b's gateway user; it returns the last
// response and body.
func (rs *replicas) connect(t *testing.T, b *browser, provider, userID string) (*http.Response, string) {
	t.Helper()
	rs.a.fakes[provider].AutoApprove(userID)
	return b.get(rs.lbURL + "/oauth2/connect/" + provider)
}

// csrf reads the session's CSRF token from a page of the gateway.
func (rs *replicas) csrf(t *testing.T, b *browser, page string) string {
	t.Helper()
	_, body := b.get(rs.lbURL + page)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf token on %s", page)
	}
	return m[1]
}

func (rs *replicas) post(t *testing.T, b *browser, path string, form url.Values) *http.Response {
	t.Helper()
	resp := b.do(http.MethodPost, rs.lbURL+path, strings.NewReader(form.Encode()))
	resp.Body.Close()
	return resp
}

// sessionAlive reports whether the browser's session is accepted by replica g.
func sessionAlive(t *testing.T, g *gateway, cookie string) bool {
	t.Helper()
	switch st := apiStatus(t, g.URL+"/oauth2/userinfo", cookie); st {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized:
		return false
	default:
		t.Fatalf("userinfo on %s: %d", g.URL, st)
		return false
	}
}

// TestAccountsConnectAcrossReplicas: a Google user connects Kakao and gets
// the same X-Forwarded-User signing in with either; an identity owned by
// another user is refused and stays where it is; disconnect ends the
// sessions of that identity on every replica, but never the last identity.
func TestAccountsConnectAcrossReplicas(t *testing.T) {
	rs := newReplicas(t, withAccounts(false))
	g := providertest.DefaultUsers("google")[0]
	k := providertest.DefaultUsers("kakao")[0]
	n := providertest.DefaultUsers("naver")[0]

	viaGoogle := newBrowser(t)
	e := rs.login(t, viaGoogle, "google", g.ID, "/app/")
	user := e.Header.Get("X-Forwarded-User")
	if !strings.HasPrefix(user, "sg_") || e.Header.Get("X-Forwarded-Identities") != "google:"+g.ID {
		t.Fatalf("after Google: X-Forwarded-User %q, Identities %q", user, e.Header.Get("X-Forwarded-Identities"))
	}
	resp, body := rs.connect(t, viaGoogle, "kakao", k.ID)
	if last, _ := url.Parse(viaGoogle.hops[len(viaGoogle.hops)-1]); resp.StatusCode != http.StatusOK || last.Path != "/oauth2/" ||
		!strings.Contains(body, "kakao:"+k.ID) {
		t.Fatalf("connect kakao: %d at %v", resp.StatusCode, viaGoogle.hops)
	}
	e = rs.app(t, viaGoogle)
	if e.Header.Get("X-Forwarded-User") != user || e.Header.Get("X-Forwarded-Identities") != "google:"+g.ID+",kakao:"+k.ID {
		t.Errorf("after connect: %q %q", e.Header.Get("X-Forwarded-User"), e.Header.Get("X-Forwarded-Identities"))
	}
	viaKakao := newBrowser(t)
	e = rs.login(t, viaKakao, "kakao", k.ID, "/app/")
	if e.Header.Get("X-Forwarded-User") != user || e.Header.Get("X-Forwarded-Provider") != "kakao" {
		t.Errorf("signed in with Kakao: X-Forwarded-User %q, want %q", e.Header.Get("X-Forwarded-User"), user)
	}

	// Someone else owns a Naver identity: linking it is refused, never moved.
	other := newBrowser(t)
	otherUser := rs.login(t, other, "naver", n.ID, "/app/").Header.Get("X-Forwarded-User")
	resp, body = rs.connect(t, viaGoogle, "naver", n.ID)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "already linked to another user") {
		t.Errorf("connect an identity of another user: %d, want 409 with a clear page", resp.StatusCode)
	}
	if got := rs.app(t, other).Header.Get("X-Forwarded-User"); got != otherUser || otherUser == user {
		t.Errorf("the other user after the refused link: %q, want %q", got, otherUser)
	}
	if got := rs.app(t, viaGoogle).Header.Get("X-Forwarded-Identities"); strings.Contains(got, "naver") {
		t.Errorf("refused identity listed: %q", got)
	}

	// Disconnect Kakao from the Google browser: the Kakao browser's session
	// ends on both replicas at once; the Google one lives on.
	kakaoCookie := sessionCookie(t, viaKakao, rs.a)
	csrf := rs.csrf(t, viaGoogle, "/oauth2/")
	if resp := rs.post(t, viaGoogle, "/oauth2/disconnect/kakao", url.Values{"csrf": {"wrong"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("disconnect without the csrf token: %d, want 403", resp.StatusCode)
	}
	if resp := rs.post(t, viaGoogle, "/oauth2/disconnect/kakao", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disconnect kakao: %d, want 303", resp.StatusCode)
	}
	for _, g := range []*gateway{rs.a, rs.b} {
		if sessionAlive(t, g, kakaoCookie) {
			t.Errorf("the Kakao session still works on %s after disconnecting Kakao", g.URL)
		}
	}
	if got := rs.app(t, viaGoogle).Header.Get("X-Forwarded-Identities"); got != "google:"+g.ID {
		t.Errorf("after disconnect: Identities %q", got)
	}
	// The last identity stays.
	if resp := rs.post(t, viaGoogle, "/oauth2/disconnect/google", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("disconnect the last identity: %d, want 409", resp.StatusCode)
	}
	// A client's own X-Forwarded-Identities, in any spelling, never arrives.
	req, _ := http.NewRequest(http.MethodGet, rs.lbURL+"/app/", nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cookie", sessionCookie(t, viaGoogle, rs.a))
	req.Header["X-Forwarded-Identities"] = []string{"kakao:forged"}
	req.Header["X_Forwarded_Identities"] = []string{"naver:forged"}
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var fe echo
	_ = json.NewDecoder(resp2.Body).Decode(&fe)
	resp2.Body.Close()
	if got := fe.Header.Values("X-Forwarded-Identities"); len(got) != 1 || got[0] != "google:"+g.ID || strings.Contains(fmt.Sprint(fe.Header), "forged") {
		t.Errorf("forged identities: upstream saw %v", fe.Header)
	}
	// Without a session, /oauth2/ sends a browser to sign in and back.
	anon := newBrowser(t)
	anon.get(rs.lbURL + "/oauth2/")
	if last, _ := url.Parse(anon.hops[len(anon.hops)-1]); last.Path != "/oauth2/sign_in" || last.Query().Get("rd") != rs.lbURL+"/oauth2/" {
		t.Errorf("/oauth2/ without a session ends at %s, want the sign-in page coming back to /oauth2/", last)
	}
	// Kakao is free again: signing in with it makes a user of its own.
	if got := rs.login(t, newBrowser(t), "kakao", k.ID, "/app/").Header.Get("X-Forwarded-User"); got == user {
		t.Errorf("Kakao after disconnect still signs in as %s", user)
	}
}

// TestAccountsLinkByEmail: with link_by_email, a login whose e-mail the
// provider verified joins the user with that verified e-mail; Naver's
// e-mail (no verified flag, no trust_email) never does.
func TestAccountsLinkByEmail(t *testing.T) {
	const shared = "same.person@example.kr"
	users := map[string][]providertest.User{
		"google": {{ID: "110169484474386276334", Email: shared, EmailVerified: true, Name: "홍길동"}},
		"kakao": {{ID: "9007199254740993", Email: shared, EmailVerified: true, Nickname: "홍길동"},
			{ID: "3456789012", Email: shared, EmailVerified: false, Nickname: "김철수"}},
		"naver": {{ID: "K6o2WIMbuK3qT0Zq8pXz1JdFHaRr7eDUj4n5LsQcBvY", Email: shared, Nickname: "길동이"}},
	}
	rs := newReplicas(t, withAccounts(true), func(c *gatewayConfig) { c.users = users })
	user := rs.login(t, newBrowser(t), "google", users["google"][0].ID, "/app/").Header.Get("X-Forwarded-User")
	e := rs.login(t, newBrowser(t), "kakao", users["kakao"][0].ID, "/app/")
	if e.Header.Get("X-Forwarded-User") != user || !strings.Contains(e.Header.Get("X-Forwarded-Identities"), "google:") {
		t.Errorf("verified Kakao e-mail: user %q identities %q, want joined to %s", e.Header.Get("X-Forwarded-User"),
			e.Header.Get("X-Forwarded-Identities"), user)
	}
	for _, tc := range []struct{ kind, id string }{{"kakao", users["kakao"][1].ID}, {"naver", users["naver"][0].ID}} {
		if got := rs.login(t, newBrowser(t), tc.kind, tc.id, "/app/").Header.Get("X-Forwarded-User"); got == user {
			t.Errorf("unverified %s e-mail joined %s", tc.kind, user)
		}
	}
}

// TestAccountsAllowUsers: allow.users names a linked identity, and a
// session signed in with another identity of the same user passes it.
func TestAccountsAllowUsers(t *testing.T) {
	g := providertest.DefaultUsers("google")[0]
	k := providertest.DefaultUsers("kakao")[0]
	rs := newReplicas(t, withAccounts(false), func(c *gatewayConfig) {
		c.routes = func(up string) []proxy.Route {
			u, _ := url.Parse(up)
			return []proxy.Route{
				{Name: "app", Path: "/", URL: u},
				{Name: "kakao-only", Path: "/k/", URL: u, Allow: proxy.Allow{Users: []string{"kakao:" + k.ID}}},
				{Name: "someone-else", Path: "/x/", URL: u, Allow: proxy.Allow{Users: []string{"google:" + providertest.DefaultUsers("google")[1].ID}}},
			}
		}
	})
	b := newBrowser(t)
	rs.login(t, b, "google", g.ID, "/app/")
	if resp, _ := b.get(rs.lbURL + "/k/"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("before linking Kakao: %d, want 403", resp.StatusCode)
	}
	if resp, _ := rs.connect(t, b, "kakao", k.ID); resp.StatusCode != http.StatusOK {
		t.Fatalf("connect: %d", resp.StatusCode)
	}
	if resp, _ := b.get(rs.lbURL + "/k/"); resp.StatusCode != http.StatusOK {
		t.Errorf("signed in with Google, Kakao linked, route allows the Kakao identity: %d, want 200", resp.StatusCode)
	}
	if resp, _ := b.get(rs.lbURL + "/x/"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("route allowing someone else: %d, want 403", resp.StatusCode)
	}
}

// TestOwnSessions lists the person's sessions on every device, ends one on
// the other replica, then all others.
func TestOwnSessions(t *testing.T) {
	rs := newReplicas(t, withAccounts(false))
	g := providertest.DefaultUsers("google")[0]
	k := providertest.DefaultUsers("kakao")[0]
	laptop := newBrowser(t)
	rs.login(t, laptop, "google", g.ID, "/app/")
	if resp, _ := rs.connect(t, laptop, "kakao", k.ID); resp.StatusCode != http.StatusOK {
		t.Fatalf("connect: %d", resp.StatusCode)
	}
	phone, tablet := newBrowser(t), newBrowser(t)
	rs.login(t, phone, "kakao", k.ID, "/app/")
	rs.login(t, tablet, "google", g.ID, "/app/")
	stranger := newBrowser(t)
	rs.login(t, stranger, "google", providertest.DefaultUsers("google")[1].ID, "/app/")

	jsonCSRF := map[*browser]string{} // the csrf field of each browser's last listing
	list := func(b *browser) []map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, rs.lbURL+"/oauth2/sessions", nil)
		req.Header.Set("Accept", "application/json")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Sessions []map[string]any
			CSRF     string
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil {
			t.Fatalf("sessions JSON: %d", resp.StatusCode)
		}
		jsonCSRF[b] = out.CSRF
		return out.Sessions
	}
	ss := list(laptop)
	if len(ss) != 3 {
		t.Fatalf("laptop sees %d sessions, want 3 (laptop, phone via Kakao, tablet): %v", len(ss), ss)
	}
	current, phoneID := 0, ""
	phoneCookie := sessionCookie(t, phone, rs.a)
	for _, s := range ss {
		for _, k := range []string{"id", "current", "created", "last_seen", "user_agent", "ip"} {
			if _, ok := s[k]; !ok {
				t.Errorf("session entry without %q: %v", k, s)
			}
		}
		if s["current"] == true {
			current++
		}
		if strings.Contains(phoneCookie, s["id"].(string)) {
			t.Errorf("the listing shows a session ID")
		}
	}
	if current != 1 {
		t.Errorf("%d sessions marked current, want 1", current)
	}
	// The phone's entry, as the phone itself sees it.
	for _, s := range list(phone) {
		if s["current"] == true {
			phoneID = s["id"].(string)
		}
	}
	// The JSON listing carries the token a script needs to end a session,
	// the same one the page's form carries.
	csrf := rs.csrf(t, laptop, "/oauth2/sessions")
	if jsonCSRF[laptop] != csrf {
		t.Errorf("sessions JSON csrf = %q, want the page's %q", jsonCSRF[laptop], csrf)
	}
	if resp := rs.post(t, laptop, "/oauth2/sessions/end", url.Values{"csrf": {jsonCSRF[laptop]}, "id": {phoneID}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("end the phone's session: %d", resp.StatusCode)
	}
	for _, g := range []*gateway{rs.a, rs.b} {
		if sessionAlive(t, g, phoneCookie) {
			t.Errorf("phone session alive on %s after the laptop ended it", g.URL)
		}
	}
	// The stranger cannot end the laptop's sessions by naming them.
	sc := rs.csrf(t, stranger, "/oauth2/sessions")
	for _, s := range list(laptop) {
		if resp := rs.post(t, stranger, "/oauth2/sessions/end", url.Values{"csrf": {sc}, "id": {s["id"].(string)}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("a stranger ending the laptop's session: %d, want 404", resp.StatusCode)
		}
	}
	tabletCookie := sessionCookie(t, tablet, rs.a)
	if resp := rs.post(t, laptop, "/oauth2/sessions/end", url.Values{"csrf": {csrf}, "others": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("end others: %d", resp.StatusCode)
	}
	if sessionAlive(t, rs.b, tabletCookie) || !sessionAlive(t, rs.b, sessionCookie(t, laptop, rs.a)) {
		t.Errorf("after ending the others: tablet alive %t, laptop alive %t; want false, true",
			sessionAlive(t, rs.b, tabletCookie), sessionAlive(t, rs.b, sessionCookie(t, laptop, rs.a)))
	}
	if n := len(list(laptop)); n != 1 {
		t.Errorf("%d sessions left, want 1", n)
	}
	// The page itself, in Korean.
	laptop.lang = "ko"
	if resp, body := laptop.get(rs.lbURL + "/oauth2/sessions"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "로그인된 기기") {
		t.Errorf("sessions page in Korean: %d", resp.StatusCode)
	}
}

// TestAccountsMemoryStoreRestart: with the memory store the links live in
// accounts.file, so a restarted gateway (sessions gone) gives the same
// person the same X-Forwarded-User; Naver's e-mail joins by e-mail only
// with trust_email.
func TestAccountsMemoryStoreRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "accounts.json")
	users := map[string][]providertest.User{
		"google": {{ID: "110169484474386276334", Email: "same@example.kr", EmailVerified: true, Name: "홍길동"}},
		"naver":  {{ID: "K6o2WIMbuK3qT0Zq8pXz1JdFHaRr7eDUj4n5LsQcBvY", Email: "same@example.kr", Nickname: "길동이"}},
	}
	cfg := gatewayConfig{users: users, naverTrust: true,
		accounts: session.AccountsOptions{Enabled: true, LinkByEmail: true, File: file}}
	first := newGateway(t, cfg)
	_, e := first.login(newBrowser(t), "google", users["google"][0].ID, first.URL+"/app/")
	user := e.Header.Get("X-Forwarded-User")
	if !strings.HasPrefix(user, "sg_") {
		t.Fatalf("X-Forwarded-User %q", user)
	}
	restarted := newGateway(t, cfg)
	_, e = restarted.login(newBrowser(t), "google", users["google"][0].ID, restarted.URL+"/app/")
	if got := e.Header.Get("X-Forwarded-User"); got != user {
		t.Errorf("after a restart: %q, want %q", got, user)
	}
	_, e = restarted.login(newBrowser(t), "naver", users["naver"][0].ID, restarted.URL+"/app/")
	if got := e.Header.Get("X-Forwarded-User"); got != user {
		t.Errorf("Naver with trust_email and the same e-mail: %q, want joined to %q", got, user)
	}
}
