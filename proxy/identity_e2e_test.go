package proxy_test

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/text/encoding/korean"

	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/proxy"
)

func encodingRoutes(upstream string) []proxy.Route {
	u, _ := url.Parse(upstream)
	return []proxy.Route{
		{Name: "app", Path: "/", URL: u},
		{Name: "pct", Path: "/pct", URL: u, HeaderEncoding: "percent"},
		{Name: "raw", Path: "/raw", URL: u, HeaderEncoding: "raw"},
		{Name: "b64", Path: "/b64", URL: u, HeaderEncoding: "base64"},
		{Name: "euckr", Path: "/euckr", URL: u, HeaderEncoding: "euc-kr"},
		{Name: "public", Path: "/public", URL: u, Public: true},
	}
}

func TestHangulNicknameInEachEncoding(t *testing.T) {
	g := newGateway(t, gatewayConfig{routes: encodingRoutes})
	u := pickUser(t, "kakao", hangulWithEmail)
	name := expectedName("kakao", u)
	b := newBrowser(t)
	if resp, _ := g.login(b, "kakao", u.ID, g.URL+"/app/"); resp.StatusCode != 200 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	euckr, err := korean.EUCKR.NewEncoder().String(name)
	if err != nil {
		t.Fatalf("the test nickname %q must be EUC-KR encodable: %v", name, err)
	}
	for _, tc := range []struct{ path, want string }{
		{"/pct/x", url.PathEscape(name)},
		{"/raw/x", name},
		{"/b64/x", base64.StdEncoding.EncodeToString([]byte(name))},
		{"/euckr/x", euckr},
		{"/app/x", url.PathEscape(name)}, // the default is percent
	} {
		resp, body := b.get(g.URL + tc.path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", tc.path, resp.StatusCode)
		}
		e := decodeEcho(t, body)
		if got, _ := hex.DecodeString(e.NameHex); string(got) != tc.want {
			t.Errorf("%s: X-Forwarded-Preferred-Username = %q, want %q", tc.path, got, tc.want)
		}
	}
}

func TestKakaoIDAbove2To53(t *testing.T) {
	u := pickUser(t, "kakao", func(u providertest.User) bool { return len(u.ID) >= 16 })
	g := newGateway(t, gatewayConfig{})
	resp, e := g.login(newBrowser(t), "kakao", u.ID, g.URL+"/app/x")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got, want := e.Header.Get("X-Forwarded-User"), "kakao:"+u.ID; got != want {
		t.Errorf("X-Forwarded-User = %q, want %q (exact int64 digits)", got, want)
	}
}

func TestSpoofedIdentityHeadersAreStripped(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	u := pickUser(t, "google", hangulWithEmail)
	b := newBrowser(t)
	if resp, _ := g.login(b, "google", u.ID, g.URL+"/app/"); resp.StatusCode != 200 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	for _, path := range []string{"/app/spoof", "/public/spoof"} {
		req, _ := http.NewRequest(http.MethodGet, g.URL+path, nil)
		req.Header.Set("Accept", "text/html")
		for _, k := range []string{"X-Forwarded-User", "x-forwarded-user", "X-Forwarded-Email", "X-Forwarded-Email-Verified",
			"X-Forwarded-Preferred-Username", "X-Forwarded-Provider", "X-Auth-Request-User", "X-Auth-Request-Email",
			"X-Forwarded-Access-Token", "X-Auth-Request-Anything"} {
			req.Header.Add(k, "admin@evil.example")
			req.Header.Add(k, "second-copy")
		}
		// Non-canonical spellings reach the map as is.
		for _, k := range []string{"x_forwarded_user", "X_Forwarded_Email", "X-Auth_Request_User", "x-forwarded_provider"} {
			req.Header[k] = []string{"admin", "again"}
		}
		for _, jar := range b.c.Jar.Cookies(req.URL) {
			req.AddCookie(jar)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		e := decodeEcho(t, body)
		for k, v := range e.Header {
			n := strings.ReplaceAll(strings.ToLower(k), "_", "-")
			if !strings.HasPrefix(n, "x-forwarded-") && !strings.HasPrefix(n, "x-auth-request-") {
				continue
			}
			for _, x := range v {
				if strings.Contains(x, "admin") || x == "second-copy" || x == "again" {
					t.Errorf("%s: spoofed %s: %q reached the upstream", path, k, x)
				}
			}
		}
		if got := e.Header.Values("X-Forwarded-User"); len(got) != 1 || got[0] != "google:"+u.ID {
			t.Errorf("%s: X-Forwarded-User = %q, want exactly [google:%s]", path, got, u.ID)
		}
	}
}

func TestTamperedCookieIsSignedOut(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	b := newBrowser(t)
	u := providertest.DefaultUsers("naver")[0]
	if resp, _ := g.login(b, "naver", u.ID, g.URL+"/app/"); resp.StatusCode != 200 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	gu, _ := url.Parse(g.URL)
	var name, value string
	for _, c := range b.c.Jar.Cookies(gu) {
		if strings.Contains(c.Name, "_socialgate") && !strings.HasSuffix(c.Name, "_login") {
			name, value = c.Name, c.Value
		}
	}
	if value == "" {
		t.Fatal("no session cookie after login")
	}
	for _, bad := range []string{
		value[:len(value)/2],
		flipMiddle(value),
		strings.Repeat("A", 5000),
		"",
		"%%%",
		value + value,
	} {
		req, _ := http.NewRequest(http.MethodGet, g.URL+"/app/x", nil)
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Cookie", name+"="+bad)
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/oauth2/sign_in") {
			t.Errorf("cookie %.20q…: status %d Location %q, want 302 to sign-in", bad, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestNewSessionIDAtEveryLogin(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	b := newBrowser(t)
	u := providertest.DefaultUsers("kakao")[0]
	g.login(b, "kakao", u.ID, g.URL+"/app/")
	first := sessionCookie(t, b, g)
	// Log in again with the valid cookie still present.
	if resp, _ := b.get(g.URL + "/oauth2/start/kakao?rd=/app/"); resp.StatusCode != 200 {
		t.Fatalf("second login: %d", resp.StatusCode)
	}
	second := sessionCookie(t, b, g)
	if first == second {
		t.Fatal("the session cookie did not change at the second login")
	}
	// The first ID is gone from the store: its cookie no longer works.
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/oauth2/userinfo", nil)
	req.Header.Set("Cookie", first)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old session still valid: status %d", resp.StatusCode)
	}
}

// sessionCookie returns "name=value" of the browser's session cookie.
func sessionCookie(t *testing.T, b *browser, g *gateway) string {
	t.Helper()
	gu, _ := url.Parse(g.URL)
	for _, c := range b.c.Jar.Cookies(gu) {
		if strings.Contains(c.Name, "_socialgate") && !strings.HasSuffix(c.Name, "_login") {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// flipMiddle changes one bit of the middle character: always a different,
// never-valid cookie.
func flipMiddle(v string) string {
	b := []byte(v)
	b[len(b)/2] ^= 1
	return string(b)
}
