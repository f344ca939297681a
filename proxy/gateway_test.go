package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/socialgate/socialgate/providers/providertest"
)

// deepLink is a protected URL with Hangul in the path and the query.
const (
	deepLink     = "/app/보고서?id=3&q=%ED%95%9C&x=a%2Fb"
	deepLinkWire = "/app/%EB%B3%B4%EA%B3%A0%EC%84%9C?id=3&q=%ED%95%9C&x=a%2Fb"
)

// expectedName is the X-Forwarded-Preferred-Username a user should get,
// per SPEC.md's identity mapping.
func expectedName(kind string, u providertest.User) string {
	switch kind {
	case "naver", "kakao":
		if u.Nickname != "" {
			return u.Nickname
		}
	}
	return u.Name
}

func expectedVerified(kind string, u providertest.User) string {
	if kind == "naver" || u.Email == "" || !u.EmailVerified {
		return "false"
	}
	return "true"
}

// pickUser finds a default user of the fake matching pred.
func pickUser(t testing.TB, kind string, pred func(providertest.User) bool) providertest.User {
	t.Helper()
	for _, u := range providertest.DefaultUsers(kind) {
		if pred(u) {
			return u
		}
	}
	t.Fatalf("no default %s user fits the test", kind)
	return providertest.User{}
}

func hangulWithEmail(u providertest.User) bool {
	n := u.Nickname + u.Name
	return u.Email != "" && utf8.RuneCountInString(n) != len(n) && !u.NoProfile
}

func TestLoginEndToEnd(t *testing.T) {
	for _, store := range []string{"memory", "redis"} {
		for _, kind := range []string{"google", "naver", "kakao"} {
			t.Run(store+"/"+kind, func(t *testing.T) {
				g := newGateway(t, gatewayConfig{store: store})
				u := pickUser(t, kind, hangulWithEmail)
				b := newBrowser(t)
				resp, e := g.login(b, kind, u.ID, g.URL+deepLink)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("final status = %d, want 200; hops %v", resp.StatusCode, b.hops)
				}
				// Browsers and Go's client send Hangul percent-encoded: this
				// is the same URL, byte for byte on the wire.
				final := b.hops[len(b.hops)-1]
				if want := g.URL + deepLinkWire; final != want {
					t.Errorf("landed on %q, want %q", final, want)
				}
				if want := deepLinkWire; e.RequestURI != want {
					t.Errorf("upstream RequestURI = %q, want %q", e.RequestURI, want)
				}
				wantHeaders := map[string]string{
					"X-Forwarded-User":               kind + ":" + u.ID,
					"X-Forwarded-Email":              u.Email,
					"X-Forwarded-Email-Verified":     expectedVerified(kind, u),
					"X-Forwarded-Preferred-Username": url.PathEscape(expectedName(kind, u)),
					"X-Forwarded-Provider":           kind,
				}
				for k, want := range wantHeaders {
					if got := e.Header[k]; len(got) != 1 || got[0] != want {
						t.Errorf("upstream %s = %q, want [%q]", k, got, want)
					}
				}
				if c := strings.Join(e.Header["Cookie"], ";"); strings.Contains(c, "_socialgate") {
					t.Errorf("gateway cookie forwarded upstream: %q", c)
				}
				// The session works for a second request without any provider call.
				before := len(g.fakes[kind].Requests())
				resp2, body := b.get(g.URL + "/app/again")
				if resp2.StatusCode != http.StatusOK || !strings.Contains(body, kind+":"+u.ID) {
					t.Errorf("second request: status %d body %.200s", resp2.StatusCode, body)
				}
				if after := len(g.fakes[kind].Requests()); after != before {
					t.Errorf("second request called the provider %d times", after-before)
				}
				assertNoSecretsLogged(t, g)
			})
		}
	}
}

func TestAPIClientGets401JSON(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/app/data?x=1", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401", resp.StatusCode)
	}
	var body struct {
		Error     string `json:"error"`
		SignInURL string `json:"sign_in_url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Error != "unauthenticated" {
		t.Errorf("error = %q, want unauthenticated", body.Error)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
	want := g.URL + "/oauth2/sign_in?rd=" + url.QueryEscape(g.URL+"/app/data?x=1")
	if body.SignInURL != want {
		t.Errorf("sign_in_url = %q, want %q", body.SignInURL, want)
	}
}

func TestBrowserRedirectedToSignIn(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	b := newBrowser(t)
	resp := b.do(http.MethodGet, g.URL+deepLink, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status = %d, want 302", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Path != "/oauth2/sign_in" {
		t.Fatalf("Location = %s", loc)
	}
	if got, want := loc.Query().Get("rd"), g.URL+deepLinkWire; got != want {
		t.Errorf("rd = %q, want %q", got, want)
	}
}

func TestSignInPageLanguages(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	for _, tc := range []struct{ accept, want string }{
		{"ko-KR,ko;q=0.9,en;q=0.8", "카카오 로그인"},
		{"en-US,en;q=0.9", "Sign in with Kakao"},
		{"", "Sign in with Kakao"},
	} {
		b := newBrowser(t)
		b.lang = tc.accept
		resp, body := b.get(g.URL + "/oauth2/sign_in?rd=/x")
		if resp.StatusCode != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("Accept-Language %q: status %d, body lacks %q", tc.accept, resp.StatusCode, tc.want)
		}
		for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "Referrer-Policy", "Cache-Control"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("sign-in page lacks %s", h)
			}
		}
		for _, p := range []string{"google", "naver", "kakao"} {
			if !strings.Contains(body, `href="/oauth2/start/`+p+`?rd=%2Fx"`) {
				t.Errorf("sign-in page lacks the %s button with rd", p)
			}
		}
	}
}

func TestDeniedConsent(t *testing.T) {
	for _, kind := range []string{"google", "naver", "kakao"} {
		t.Run(kind, func(t *testing.T) {
			g := newGateway(t, gatewayConfig{})
			g.fakes[kind].DenyConsent(true)
			b := newBrowser(t)
			b.get(g.URL + "/app/x")
			resp, _ := g.clickProvider(b, kind)
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status = %d, want 403 (hops %v)", resp.StatusCode, b.hops)
			}
			_, body := b.get(g.URL + "/app/x")
			if !strings.Contains(b.hops[len(b.hops)-1], "/oauth2/sign_in") {
				t.Errorf("after a denied consent the browser must still be signed out; body %.100s", body)
			}
		})
	}
}

// callbackURL runs start and the fake's authorize for a browser and returns
// the callback URL the provider would send the browser to, without visiting it.
func (g *gateway) callbackURL(b *browser, kind, userID, rd string) string {
	g.t.Helper()
	g.fakes[kind].AutoApprove(userID)
	resp := b.do(http.MethodGet, g.URL+"/oauth2/start/"+kind+"?rd="+url.QueryEscape(rd), nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		g.t.Fatalf("start: status %d", resp.StatusCode)
	}
	resp = b.do(http.MethodGet, resp.Header.Get("Location"), nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		g.t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func TestStateAndCodeReplay(t *testing.T) {
	for _, kind := range []string{"google", "naver", "kakao"} {
		t.Run(kind, func(t *testing.T) {
			g := newGateway(t, gatewayConfig{})
			u := providertest.DefaultUsers(kind)[0]
			b := newBrowser(t)
			cb := g.callbackURL(b, kind, u.ID, "/app/first")
			resp, _ := b.get(cb)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("first callback: %d", resp.StatusCode)
			}
			// Reused state (and code): the same callback URL again.
			resp = b.do(http.MethodGet, cb, nil)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("reused state: status %d, want 400", resp.StatusCode)
			}
			// Reused code with a fresh, valid state.
			cb2 := g.callbackURL(b, kind, u.ID, "/app/second")
			old, _ := url.Parse(cb)
			fresh, _ := url.Parse(cb2)
			q := fresh.Query()
			q.Set("code", old.Query().Get("code"))
			fresh.RawQuery = q.Encode()
			resp = b.do(http.MethodGet, fresh.String(), nil)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("reused code: status %d, want 400; body %.200s", resp.StatusCode, body)
			}
			// Unknown state.
			resp = b.do(http.MethodGet, g.URL+"/oauth2/callback/"+kind+"?code=x&state=nope", nil)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("unknown state: status %d, want 400", resp.StatusCode)
			}
			assertNoSecretsLogged(t, g)
		})
	}
}

func TestExpiredState(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	b := newBrowser(t)
	cb := g.callbackURL(b, "kakao", providertest.DefaultUsers("kakao")[0].ID, "/app/x")
	g.now.Advance(11 * time.Minute)
	resp := b.do(http.MethodGet, cb, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("expired state: status %d, want 400", resp.StatusCode)
	}
}

func TestStateBoundToBrowser(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	victim, attacker := newBrowser(t), newBrowser(t)
	cb := g.callbackURL(attacker, "kakao", providertest.DefaultUsers("kakao")[0].ID, "/app/x")
	// Login CSRF: the attacker's callback URL opened in the victim's browser.
	resp := victim.do(http.MethodGet, cb, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("foreign state: status %d, want 400", resp.StatusCode)
	}
	if id := resp.Header.Get("Set-Cookie"); strings.Contains(id, "_socialgate=") && !strings.Contains(id, "Max-Age=0") {
		t.Errorf("a session cookie was set for a foreign state: %s", id)
	}
}

func TestUserWithoutEmail(t *testing.T) {
	for _, kind := range []string{"google", "naver", "kakao"} {
		t.Run(kind, func(t *testing.T) {
			u, ok := findUser(kind, func(u providertest.User) bool { return u.Email == "" })
			if !ok {
				t.Skipf("the %s fake has no user without e-mail", kind)
			}
			g := newGateway(t, gatewayConfig{})
			resp, e := g.login(newBrowser(t), kind, u.ID, g.URL+"/app/x")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if v, ok := e.Header["X-Forwarded-Email"]; ok {
				t.Errorf("X-Forwarded-Email = %q, want absent", v)
			}
			if got := e.Header.Get("X-Forwarded-Email-Verified"); got != "false" {
				t.Errorf("X-Forwarded-Email-Verified = %q, want false", got)
			}
		})
	}
}

func findUser(kind string, pred func(providertest.User) bool) (providertest.User, bool) {
	for _, u := range providertest.DefaultUsers(kind) {
		if pred(u) {
			return u, true
		}
	}
	return providertest.User{}, false
}

// TestDeepLinkThroughHostAlias: a browser that reached the gateway by
// another name (localhost instead of 127.0.0.1) still gets its deep link
// back: the rd is built on public_url, which the redirect policy accepts.
func TestDeepLinkThroughHostAlias(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/app/x?y=1", nil)
	req.Host = strings.Replace(strings.TrimPrefix(g.URL, "http://"), "127.0.0.1", "localhost", 1)
	req.Header.Set("Accept", "text/html")
	resp, err := newBrowser(t).c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if got, want := loc.Query().Get("rd"), g.URL+"/app/x?y=1"; got != want {
		t.Errorf("rd = %q, want %q", got, want)
	}
}

// TestOneRequestID: every response carries exactly one X-Request-Id, also
// when the upstream echoes the one it received.
func TestOneRequestID(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	u := providertest.DefaultUsers("kakao")[0]
	b := newBrowser(t)
	g.login(b, "kakao", u.ID, g.URL+"/app/x")
	for _, path := range []string{"/public/echo", "/app/echo", "/oauth2/sign_in", "/nope%2f"} {
		resp := b.do(http.MethodGet, g.URL+path, nil)
		resp.Body.Close()
		if ids := resp.Header.Values("X-Request-Id"); len(ids) != 1 || ids[0] == "" {
			t.Errorf("%s: X-Request-Id = %q, want one value", path, ids)
		}
	}
}
