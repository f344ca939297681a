package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/socialgate/socialgate/providers/providertest"
)

func decodeEcho(t *testing.T, body string) echo {
	t.Helper()
	var e echo
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("decode upstream echo: %v; body %.200s", err, body)
	}
	return e
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestSignOut(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	b := newBrowser(t)
	u := providertest.DefaultUsers("google")[0]
	if resp, _ := g.login(b, "google", u.ID, g.URL+"/app/"); resp.StatusCode != 200 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	// GET only confirms.
	resp, body := b.get(g.URL + "/oauth2/sign_out?rd=/app/bye")
	if resp.StatusCode != 200 {
		t.Fatalf("confirm page: %d", resp.StatusCode)
	}
	if resp, _ := b.get(g.URL + "/app/still"); resp.StatusCode != 200 {
		t.Fatalf("GET sign_out ended the session: %d", resp.StatusCode)
	}
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field on the confirm page: %.300s", body)
	}
	// POST without the token is refused and does not sign out.
	resp = b.do(http.MethodPost, g.URL+"/oauth2/sign_out", strings.NewReader("rd=/app/bye"))
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST without csrf: %d, want 403", resp.StatusCode)
	}
	if resp, _ := b.get(g.URL + "/app/still"); resp.StatusCode != 200 {
		t.Fatalf("a POST without csrf ended the session: %d", resp.StatusCode)
	}
	old := sessionCookie(t, b, g)
	resp = b.do(http.MethodPost, g.URL+"/oauth2/sign_out",
		strings.NewReader(url.Values{"csrf": {m[1]}, "rd": {"/app/bye"}}.Encode()))
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/app/bye" {
		t.Fatalf("sign out: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The session is gone server-side, not just the cookie.
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/oauth2/userinfo", nil)
	req.Header.Set("Cookie", old)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusUnauthorized {
		t.Errorf("old cookie after sign-out: %d, want 401", r2.StatusCode)
	}
}

func TestUserinfoAndForwardAuth(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	b := newBrowser(t)
	u := pickUser(t, "kakao", hangulWithEmail)
	g.login(b, "kakao", u.ID, g.URL+"/app/")
	cookie := sessionCookie(t, b, g)

	req, _ := http.NewRequest(http.MethodGet, g.URL+"/oauth2/userinfo", nil)
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if info["user"] != "kakao:"+u.ID || info["provider"] != "kakao" || info["subject"] != u.ID || info["name"] != expectedName("kakao", u) {
		t.Errorf("userinfo = %v", info)
	}

	req, _ = http.NewRequest(http.MethodGet, g.URL+"/oauth2/auth", nil)
	req.Header.Set("Cookie", cookie)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("auth: %d, want 202", resp.StatusCode)
	}
	if got := resp.Header.Get("X-Auth-Request-User"); got != "kakao:"+u.ID {
		t.Errorf("X-Auth-Request-User = %q", got)
	}
	if got := resp.Header.Get("X-Auth-Request-Provider"); got != "kakao" {
		t.Errorf("X-Auth-Request-Provider = %q", got)
	}
	if got := resp.Header.Get("X-Auth-Request-Preferred-Username"); got != url.PathEscape(expectedName("kakao", u)) {
		t.Errorf("X-Auth-Request-Preferred-Username = %q", got)
	}

	resp, err = http.Get(g.URL + "/oauth2/auth")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("auth without session: %d, want 401", resp.StatusCode)
	}
}

func TestHealth(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(g.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}
