package proxy_test

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/session"
)

// noRedirects is a client without a jar that shows every redirect.
var noRedirects = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func send(t *testing.T, method, u, cookie, accept string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	req.Header.Set("Accept", accept)
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	return resp
}

// TestAttackCookieAttributes: the login and session cookies (and their
// clearing) are HttpOnly, SameSite=Lax, Path=/; Secure with the __Host-
// prefix when public_url is https and no domain is set. The gateway runs on
// plain http here; the attributes are what is checked, so the browser's
// part (which would not send Secure cookies over http) is done by hand.
func TestAttackCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		name, public string
		opts         session.CookieOptions
		wantName     string
		secure       bool
		domain       string
	}{
		{"http", "", session.CookieOptions{}, "_socialgate", false, ""},
		{"https", "https://gate.example.com", session.CookieOptions{Secure: true}, "__Host-_socialgate", true, ""},
		{"https with domain", "https://gate.example.com", session.CookieOptions{Secure: true, Domain: ".example.com"},
			"_socialgate", true, "example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAttackGateway(t, gatewayConfig{publicURL: tc.public, cookie: tc.opts})
			public := tc.public
			if public == "" {
				public = a.URL
			}
			check := func(step string, c *http.Cookie, name string, clearing bool) {
				t.Helper()
				if c.Name != name || c.Path != "/" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
					c.Secure != tc.secure || c.Domain != tc.domain || (clearing && c.MaxAge >= 0) {
					t.Errorf("%s: cookie %s; want name %s, Path=/, HttpOnly, SameSite=Lax, Secure=%v, Domain=%q",
						step, c, name, tc.secure, tc.domain)
				}
				if strings.HasPrefix(c.Name, "__Host-") && (!c.Secure || c.Domain != "" || c.Path != "/") {
					t.Errorf("%s: __Host- cookie without Secure, with a Domain or another Path: %s", step, c)
				}
			}
			cookieOf := func(resp *http.Response, name string) *http.Cookie {
				for _, c := range resp.Cookies() {
					if c.Name == name {
						return c
					}
				}
				t.Fatalf("no %s cookie in %v", name, resp.Header["Set-Cookie"])
				return nil
			}

			a.fakes["kakao"].AutoApprove(providertest.DefaultUsers("kakao")[0].ID)
			start := send(t, http.MethodGet, a.URL+"/oauth2/start/kakao?rd=/private/x", "", "text/html", "")
			login := cookieOf(start, tc.wantName+"_login")
			check("login cookie", login, tc.wantName+"_login", false)
			authz := send(t, http.MethodGet, start.Header.Get("Location"), "", "text/html", "")
			cb := strings.Replace(authz.Header.Get("Location"), public, a.URL, 1)
			callback := send(t, http.MethodGet, cb, login.Name+"="+login.Value, "text/html", "")
			if callback.StatusCode != http.StatusFound {
				t.Fatalf("callback: status %d", callback.StatusCode)
			}
			sess := cookieOf(callback, tc.wantName)
			check("session cookie", sess, tc.wantName, false)
			check("login cookie cleared", cookieOf(callback, tc.wantName+"_login"), tc.wantName+"_login", true)

			page := httptestGet(t, a.URL+"/oauth2/sign_out", sess.Name+"="+sess.Value)
			m := csrfRE.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no csrf token on the confirm page")
			}
			out := send(t, http.MethodPost, a.URL+"/oauth2/sign_out", sess.Name+"="+sess.Value, "text/html",
				url.Values{"csrf": {m[1]}}.Encode())
			check("session cookie cleared", cookieOf(out, tc.wantName), tc.wantName, true)
		})
	}
}

func httptestGet(t *testing.T, u, cookie string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Cookie", cookie)
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return readAll(t, resp)
}

// forgeSessionCookie signs value for name with secret and any timestamp,
// the way securecookie does, so a test can present an old cookie.
func forgeSessionCookie(secret []byte, name, value string, ts time.Time) string {
	key, err := hkdf.Key(sha256.New, secret, nil, "socialgate cookie", 32)
	if err != nil {
		panic(err)
	}
	b := fmt.Sprintf("%s|%d|%s|", name, ts.Unix(), base64.URLEncoding.EncodeToString([]byte(value)))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(b[:len(b)-1]))
	return base64.URLEncoding.EncodeToString(append([]byte(b[len(name)+1:]), mac.Sum(nil)...))
}

// TestAttackBadSessionCookies: a tampered, truncated, oversized, expired,
// old-key or misnamed session cookie means signed out on every endpoint,
// never a 500.
func TestAttackBadSessionCookies(t *testing.T) {
	a := newAttackGateway(t, gatewayConfig{})
	_, good := a.signIn(t, "kakao", providertest.DefaultUsers("kakao")[0].ID)
	name := a.cookies.SessionName()
	v := strings.TrimPrefix(good, name+"=")
	id, ok := a.cookies.ReadSession(&http.Request{Header: http.Header{"Cookie": {good}}})
	if !ok {
		t.Fatal("the test cannot read its own session cookie")
	}
	oldKey, _ := session.NewCookies(session.CookieOptions{Secret: []byte("a-retired-secret-that-is-32-bytes-long!")})
	rec := httptest.NewRecorder()
	oldKey.WriteSession(rec, id)
	flipped := []byte(v)
	flipped[len(flipped)/2] ^= 0x01
	bad := map[string]string{
		"truncated":         name + "=" + v[:len(v)/2],
		"last byte dropped": name + "=" + v[:len(v)-1],
		"one bit flipped":   name + "=" + string(flipped),
		"oversized":         name + "=" + v + strings.Repeat("A", 5000),
		"huge":              name + "=" + strings.Repeat("QUFB", 8000),
		"empty":             name + "=",
		"not base64":        name + "=%%%",
		"hangul":            name + "=홍길동",
		"old key":           rec.Header().Get("Set-Cookie"),
		"signed 31 days ago": name + "=" + forgeSessionCookie(testSecret, name, id,
			time.Now().Add(-31*24*time.Hour)),
		"signed as the login cookie":  name + "=" + forgeSessionCookie(testSecret, name+"_login", id, time.Now()),
		"raw session id":              name + "=" + id,
		"twenty bad copies then good": strings.Repeat(name+"=x; ", 20) + good,
	}
	if c, err := http.ParseSetCookie(bad["old key"]); err == nil {
		bad["old key"] = c.Name + "=" + c.Value
	}
	for label, cookie := range bad {
		for _, probe := range []struct {
			method, path, accept, body string
			want                       int
		}{
			{http.MethodGet, "/private/x", "text/html", "", http.StatusFound},
			{http.MethodGet, "/private/x", "application/json", "", http.StatusUnauthorized},
			{http.MethodGet, "/oauth2/userinfo", "application/json", "", http.StatusUnauthorized},
			{http.MethodGet, "/oauth2/auth", "application/json", "", http.StatusUnauthorized},
			{http.MethodGet, "/oauth2/sign_out", "text/html", "", http.StatusOK},
			{http.MethodPost, "/oauth2/sign_out", "text/html", "csrf=x", http.StatusFound},
			{http.MethodGet, "/public/x", "text/html", "", http.StatusOK},
		} {
			resp := send(t, probe.method, a.URL+probe.path, cookie, probe.accept, probe.body)
			if resp.StatusCode != probe.want {
				t.Errorf("%s: %s %s: status %d, want %d", label, probe.method, probe.path, resp.StatusCode, probe.want)
			}
		}
		if r := a.private.take(); len(r) > 0 {
			t.Errorf("%s: reached the protected upstream", label)
		}
		for _, r := range a.public.take() {
			checkIdentity(t, label, r.Header, nil)
		}
	}
	// The real cookie still works, so the probes above could have failed.
	if resp := send(t, http.MethodGet, a.URL+"/oauth2/userinfo", good, "application/json", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("the good cookie: status %d, want 200", resp.StatusCode)
	}
}

// TestAttackSignOutCSRF: only a POST with the session's CSRF token in the
// form body ends a session; every other way in leaves it alone.
func TestAttackSignOutCSRF(t *testing.T) {
	a := newAttackGateway(t, gatewayConfig{})
	_, cookie := a.signIn(t, "kakao", providertest.DefaultUsers("kakao")[0].ID)
	_, other := a.signIn(t, "google", providertest.DefaultUsers("google")[0].ID)
	token := func(c string) string {
		m := csrfRE.FindStringSubmatch(httptestGet(t, a.URL+"/oauth2/sign_out", c))
		if m == nil {
			t.Fatal("no csrf token on the confirm page")
		}
		return m[1]
	}
	mine, theirs := token(cookie), token(other)
	alive := func() bool {
		return send(t, http.MethodGet, a.URL+"/oauth2/userinfo", cookie, "application/json", "").StatusCode == http.StatusOK
	}
	for _, tc := range []struct {
		name, method, query, body, ctype string
	}{
		{"GET", http.MethodGet, "", "", ""},
		{"GET with the token", http.MethodGet, "?csrf=" + mine, "", ""},
		{"HEAD", http.MethodHead, "", "", ""},
		{"POST without a token", http.MethodPost, "", "rd=/", "application/x-www-form-urlencoded"},
		{"POST with the token in the query", http.MethodPost, "?csrf=" + mine, "rd=/", "application/x-www-form-urlencoded"},
		{"POST with another session's token", http.MethodPost, "", "csrf=" + theirs, "application/x-www-form-urlencoded"},
		{"POST everywhere with another token", http.MethodPost, "", "everywhere=1&csrf=" + theirs, "application/x-www-form-urlencoded"},
		{"POST with an empty token", http.MethodPost, "", "csrf=", "application/x-www-form-urlencoded"},
		{"POST JSON", http.MethodPost, "", `{"csrf":"` + mine + `"}`, "application/json"},
		{"POST text/plain", http.MethodPost, "", "csrf=" + mine, "text/plain"},
		{"PUT", http.MethodPut, "", "csrf=" + mine, "application/x-www-form-urlencoded"},
	} {
		req, _ := http.NewRequest(tc.method, a.URL+"/oauth2/sign_out"+tc.query, strings.NewReader(tc.body))
		req.Header.Set("Cookie", cookie)
		req.Header.Set("Accept", "text/html")
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode >= 500 {
			t.Errorf("%s: status %d", tc.name, resp.StatusCode)
		}
		if !alive() {
			t.Fatalf("%s ended the session", tc.name)
		}
	}
	resp := send(t, http.MethodPost, a.URL+"/oauth2/sign_out", cookie, "text/html", url.Values{"csrf": {mine}}.Encode())
	if resp.StatusCode != http.StatusFound || alive() {
		t.Errorf("POST with the token: status %d, session alive %v; want 302 and signed out", resp.StatusCode, alive())
	}
}
