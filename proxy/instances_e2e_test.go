package proxy_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/socialgate/socialgate/proxy"
)

// TestTwoGoogleInstances: a company's Google and the public Google side by
// side. The id names each instance in its button, its routes, the user key
// and X-Forwarded-Provider, so one Google account signed in through each is
// two distinct users, and allow.providers tells them apart.
func TestTwoGoogleInstances(t *testing.T) {
	routes := func(upstream string) []proxy.Route {
		u, _ := url.Parse(upstream)
		return []proxy.Route{
			{Name: "app", Path: "/", URL: u},
			{Name: "work", Path: "/work", URL: u, Allow: proxy.Allow{Providers: []string{"google-work"}}},
		}
	}
	g := newGateway(t, gatewayConfig{routes: routes,
		instances: []instance{{id: "google-work", kind: "google", display: "회사 Google"}}})
	u := pickUser(t, "google", hangulWithEmail)

	// Both buttons, each with its own label and start URL.
	b := newBrowser(t)
	b.lang = "ko"
	resp, page := b.get(g.URL + "/oauth2/sign_in")
	if resp.StatusCode != 200 {
		t.Fatalf("sign-in page: %d", resp.StatusCode)
	}
	for _, want := range []string{"/oauth2/start/google?", "/oauth2/start/google-work?", "Google 계정으로 로그인", "회사 Google 계정으로 로그인"} {
		if !strings.Contains(page, want) {
			t.Errorf("sign-in page lacks %q", want)
		}
	}

	users := map[string]string{}
	for _, id := range []string{"google", "google-work"} {
		seen := map[string]int{}
		for k, f := range g.fakes {
			seen[k] = len(f.Requests())
		}
		b := newBrowser(t)
		resp, e := g.login(b, id, u.ID, g.URL+"/app/x")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: login landed with %d; hops %v", id, resp.StatusCode, b.hops)
		}
		if got, want := e.Header.Get("X-Forwarded-User"), id+":"+u.ID; got != want {
			t.Errorf("%s: X-Forwarded-User = %q, want %q", id, got, want)
		}
		if got := e.Header.Get("X-Forwarded-Provider"); got != id {
			t.Errorf("%s: X-Forwarded-Provider = %q, want %q", id, got, id)
		}
		users[id] = e.Header.Get("X-Forwarded-User")
		// Only the instance's own fake saw the login.
		for other, f := range g.fakes {
			if other == id {
				continue
			}
			if n := len(f.Requests()); n != seen[other] {
				t.Errorf("%s login: fake %s got %d requests", id, other, n-seen[other])
			}
		}
		want := http.StatusForbidden
		if id == "google-work" {
			want = http.StatusOK
		}
		if resp, _ := b.get(g.URL + "/work/x"); resp.StatusCode != want {
			t.Errorf("%s: /work (allow.providers: [google-work]) = %d, want %d", id, resp.StatusCode, want)
		}
	}
	if users["google"] == users["google-work"] {
		t.Errorf("both instances gave the user key %q", users["google"])
	}
}

// TestCallbackOfAnotherInstance: a login started at one instance cannot be
// finished at the other's callback (the code and state belong to one).
func TestCallbackOfAnotherInstance(t *testing.T) {
	g := newGateway(t, gatewayConfig{instances: []instance{{id: "google-work", kind: "google"}}})
	u := pickUser(t, "google", hangulWithEmail)
	g.fakes["google"].AutoApprove(u.ID)
	b := newBrowser(t)
	resp := b.do(http.MethodGet, g.URL+"/oauth2/start/google?rd=/app/", nil)
	auth := resp.Header.Get("Location")
	resp.Body.Close()
	resp = b.do(http.MethodGet, auth, nil)
	cb, err := url.Parse(resp.Header.Get("Location"))
	resp.Body.Close()
	if err != nil || !strings.HasSuffix(cb.Path, "/oauth2/callback/google") {
		t.Fatalf("fake did not redirect to the callback: %v %v", cb, err)
	}
	cb.Path = "/oauth2/callback/google-work"
	resp, _ = b.get(cb.String())
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Errorf("callback at the other instance: status %d, want 4xx", resp.StatusCode)
	}
}
