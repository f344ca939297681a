package proxy_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/proxy"
	"github.com/socialgate/socialgate/session"
)

// refreshCalls are the token requests with grant_type=refresh_token that
// reached the fake.
func refreshCalls(f *providertest.Fake) []providertest.Request {
	var out []providertest.Request
	for _, r := range f.Requests() {
		if strings.HasSuffix(r.Path, "/token") && r.Form.Get("grant_type") == "refresh_token" {
			out = append(out, r)
		}
	}
	return out
}

// userSession is the one stored session of user.
func userSession(t *testing.T, g *gateway, user string) *session.Session {
	t.Helper()
	list, err := g.store.ListUser(context.Background(), user)
	if err != nil {
		t.Fatalf("ListUser(%s): %v", user, err)
	}
	if len(list) != 1 {
		t.Fatalf("ListUser(%s): got %d sessions, want 1", user, len(list))
	}
	return list[0]
}

// passTokenRoutes send the access token upstream, so a test sees which
// token the request was served with.
func passTokenRoutes(upstream string) []proxy.Route {
	u, _ := url.Parse(upstream)
	return []proxy.Route{
		{Name: "app", Path: "/", URL: u, PassAccessToken: true},
		{Name: "public", Path: "/public", URL: u, Public: true},
	}
}

// getApp requests path as the browser and returns the upstream's echo; the
// browser must be served, not sent to sign in.
func getApp(t *testing.T, g *gateway, b *browser, path string) echo {
	t.Helper()
	resp, body := b.get(g.URL + path)
	if resp.StatusCode != http.StatusOK || len(b.hops) != 1 {
		t.Fatalf("GET %s: status %d after hops %v, want 200 at once", path, resp.StatusCode, b.hops)
	}
	return decodeEcho(t, body)
}

func TestRefreshGoogleOffline(t *testing.T) {
	g := newGateway(t, gatewayConfig{refresh: time.Minute, routes: passTokenRoutes})
	u := providertest.DefaultUsers("google")[0]
	user := "google:" + u.ID
	b := newBrowser(t)
	if resp, _ := g.login(b, "google", u.ID, g.URL+"/app/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	s0 := userSession(t, g, user)
	if s0.RefreshToken == "" || s0.TokenExpiry.IsZero() {
		t.Fatalf("after an offline login: refresh token %t, expiry %v; want both", s0.RefreshToken != "", s0.TokenExpiry)
	}

	// Two minutes before expiry nothing happens.
	g.now.Advance(s0.TokenExpiry.Sub(g.now.Now()) - 2*time.Minute)
	if e := getApp(t, g, b, "/app/early"); e.Header.Get("X-Forwarded-Access-Token") != s0.AccessToken {
		t.Errorf("before the refresh window: upstream got another access token")
	}
	if n := len(refreshCalls(g.fakes["google"])); n != 0 {
		t.Fatalf("refreshes before the window: got %d, want 0", n)
	}

	// Inside the last minute: this request is served with a new token.
	g.now.Advance(90 * time.Second)
	e := getApp(t, g, b, "/app/late")
	calls := refreshCalls(g.fakes["google"])
	if len(calls) != 1 {
		t.Fatalf("refreshes: got %d, want 1", len(calls))
	}
	if got := calls[0].PostForm.Get("refresh_token"); got != s0.RefreshToken {
		t.Errorf("refresh sent another refresh token than the login's")
	}
	s1 := userSession(t, g, user)
	switch {
	case s1.AccessToken == s0.AccessToken:
		t.Errorf("access token unchanged after refresh")
	case !s1.TokenExpiry.After(s0.TokenExpiry):
		t.Errorf("token expiry: got %v, want after %v", s1.TokenExpiry, s0.TokenExpiry)
	case s1.RefreshToken != s0.RefreshToken:
		t.Errorf("refresh token changed; Google sends none on refresh, so the old one must stay")
	}
	if got := e.Header.Get("X-Forwarded-Access-Token"); got != s1.AccessToken {
		t.Errorf("upstream access token: got the old one, want the refreshed one")
	}
	getApp(t, g, b, "/app/again")
	if n := len(refreshCalls(g.fakes["google"])); n != 1 {
		t.Errorf("refreshes after a fresh token: got %d, want 1", n)
	}
	assertNoSecretsLogged(t, g)
}

func TestRefreshNaverKeepsRefreshToken(t *testing.T) {
	g := newGateway(t, gatewayConfig{refresh: time.Minute})
	u := providertest.DefaultUsers("naver")[0]
	user := "naver:" + u.ID
	b := newBrowser(t)
	g.login(b, "naver", u.ID, g.URL+"/app/")
	s0 := userSession(t, g, user)
	if s0.RefreshToken == "" {
		t.Fatal("naver login gave no refresh token")
	}
	prev := s0
	for round := 1; round <= 2; round++ {
		g.now.Advance(prev.TokenExpiry.Sub(g.now.Now()) + time.Second)
		e := getApp(t, g, b, "/app/x")
		if got := e.Header.Get("X-Forwarded-User"); got != user {
			t.Fatalf("round %d: X-Forwarded-User %q, want %q", round, got, user)
		}
		calls := refreshCalls(g.fakes["naver"])
		if len(calls) != round {
			t.Fatalf("round %d: refreshes: got %d, want %d", round, len(calls), round)
		}
		if calls[round-1].Form.Get("refresh_token") != s0.RefreshToken {
			t.Errorf("round %d: refresh did not use the login's refresh token", round)
		}
		s := userSession(t, g, user)
		if s.RefreshToken != s0.RefreshToken {
			t.Errorf("round %d: refresh token changed; Naver's reply has none, the old one must stay", round)
		}
		if s.AccessToken == prev.AccessToken || !s.TokenExpiry.After(prev.TokenExpiry) {
			t.Errorf("round %d: access token not renewed", round)
		}
		prev = s
	}
	assertNoSecretsLogged(t, g)
}

func TestRefreshKakaoRotation(t *testing.T) {
	const day = 24 * time.Hour
	// Long enough for the refresh token to come within a month of its
	// 60-day expiry while the session lives.
	g := newGateway(t, gatewayConfig{refresh: time.Minute, lifetime: 90 * day, idle: 40 * day})
	u := providertest.DefaultUsers("kakao")[0]
	user := "kakao:" + u.ID
	b := newBrowser(t)
	g.login(b, "kakao", u.ID, g.URL+"/app/")
	loggedIn := g.now.Now()
	s0 := userSession(t, g, user)

	steps := []struct {
		name   string
		at     time.Duration // since login
		rotate bool
	}{
		{"first refresh, 59 days left", 7 * time.Hour, false},
		{"under a month left", 31 * day, true},
		{"with the rotated token", 31*day + 7*time.Hour, false},
	}
	prev := s0
	for i, st := range steps {
		g.now.Advance(loggedIn.Add(st.at).Sub(g.now.Now()))
		e := getApp(t, g, b, "/app/x")
		if got := e.Header.Get("X-Forwarded-User"); got != user {
			t.Fatalf("%s: X-Forwarded-User %q, want %q", st.name, got, user)
		}
		calls := refreshCalls(g.fakes["kakao"])
		if len(calls) != i+1 {
			t.Fatalf("%s: refreshes: got %d, want %d", st.name, len(calls), i+1)
		}
		if calls[i].PostForm.Get("refresh_token") != prev.RefreshToken {
			t.Errorf("%s: refresh did not send the stored refresh token", st.name)
		}
		s := userSession(t, g, user)
		if rotated := s.RefreshToken != prev.RefreshToken; rotated != st.rotate || s.RefreshToken == "" {
			t.Errorf("%s: refresh token rotated = %t (empty %t), want %t", st.name, rotated, s.RefreshToken == "", st.rotate)
		}
		prev = s
	}
	assertNoSecretsLogged(t, g)
}

func TestRefreshRefusedEndsSession(t *testing.T) {
	for _, kind := range []string{"google", "naver", "kakao"} {
		t.Run(kind, func(t *testing.T) {
			g := newGateway(t, gatewayConfig{refresh: time.Minute})
			u := providertest.DefaultUsers(kind)[0]
			user := kind + ":" + u.ID
			b := newBrowser(t)
			g.login(b, kind, u.ID, g.URL+"/app/")
			s0 := userSession(t, g, user)
			cookie := sessionCookie(t, b, g)
			// The same person on another device: the provider's refusal
			// ends that session too (SPEC: a user's every session ends).
			other := newBrowser(t)
			g.login(other, kind, u.ID, g.URL+"/app/")
			otherCookie := sessionCookie(t, other, g)

			g.fakes[kind].FailRefresh(u.ID) // the user unlinked the app
			g.now.Advance(s0.TokenExpiry.Sub(g.now.Now()) + time.Second)
			resp := b.do(http.MethodGet, g.URL+"/app/x", nil)
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || loc.Path != "/oauth2/sign_in" {
				t.Fatalf("after a refused refresh: %d → %q, want 302 to the sign-in page", resp.StatusCode, loc)
			}
			if n := len(refreshCalls(g.fakes[kind])); n != 1 {
				t.Errorf("refreshes: got %d, want 1", n)
			}
			if list, err := g.store.ListUser(context.Background(), user); err != nil || len(list) != 0 {
				t.Errorf("store after a refused refresh: %d sessions (err %v), want 0", len(list), err)
			}
			// The cookie is worthless now, for API clients too.
			if status := apiStatus(t, g.URL+"/oauth2/userinfo", cookie); status != http.StatusUnauthorized {
				t.Errorf("userinfo with the ended session: %d, want 401", status)
			}
			if status := apiStatus(t, g.URL+"/oauth2/userinfo", otherCookie); status != http.StatusUnauthorized {
				t.Errorf("userinfo from the other device: %d, want 401", status)
			}
			assertNoSecretsLogged(t, g)
		})
	}
}

func TestRefreshProviderDownKeepsSession(t *testing.T) {
	g := newGateway(t, gatewayConfig{refresh: time.Minute})
	u := providertest.DefaultUsers("kakao")[0]
	user := "kakao:" + u.ID
	b := newBrowser(t)
	g.login(b, "kakao", u.ID, g.URL+"/app/")
	s0 := userSession(t, g, user)

	g.fakes["kakao"].SetDown(true)
	g.now.Advance(s0.TokenExpiry.Sub(g.now.Now()) + time.Second)
	if e := getApp(t, g, b, "/app/x"); e.Header.Get("X-Forwarded-User") != user {
		t.Fatalf("provider down: identity %q, want %q", e.Header.Get("X-Forwarded-User"), user)
	}
	if s := userSession(t, g, user); s.RefreshToken != s0.RefreshToken {
		t.Errorf("a failed refresh changed the stored refresh token")
	}
	g.fakes["kakao"].SetDown(false)
	getApp(t, g, b, "/app/y")
	if s := userSession(t, g, user); s.AccessToken == s0.AccessToken {
		t.Errorf("provider back: access token not renewed")
	}
	if n := len(refreshCalls(g.fakes["kakao"])); n != 2 {
		t.Errorf("refreshes: got %d, want 2 (one failed, one ok)", n)
	}
}

// apiStatus sends an API request with a cookie and returns the status.
func apiStatus(t *testing.T, u, cookie string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
