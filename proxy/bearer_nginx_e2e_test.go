package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/bearer"
	"github.com/socialgate/socialgate/proxy"
)

// TestNginxForwardAuthBearer runs deploy/nginx/forward-auth.conf in a real
// nginx with socialgate deciding for machine clients: a good token reaches
// the app as client:{client_id} with its scopes, a bad one is a 401 and a
// missing scope a 403, each with its RFC 6750 challenge, an unreadable
// Authorization header a 400 and unavailable issuer keys a 503 (not the
// 500 nginx makes of them by itself), forged identity headers never reach
// the app, and a token on a path without bearer is refused.
func TestNginxForwardAuthBearer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx")
	}
	app := nginxApp(t)
	addr := freeLoopbackAddr(t)
	g := newBearerGatewayWith(t, func(_ string, aud []bearer.Audience) []proxy.Route {
		return []proxy.Route{
			{Name: "app", Host: addr, Path: "/"},
			{Name: "api", Host: addr, Path: "/api/", Bearer: aud, Allow: proxy.Allow{Scopes: []string{"wiki.read"}}},
		}
	})
	startNginxExample(t, addr, g.URL, app.URL)
	call := func(path, token string, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		for k, v := range hdr {
			req.Header[k] = []string{v}
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}

	// The issuer's keys unavailable: first, while the verifier has none
	// cached. The gateway's trouble, so a 503 to retry (Retry-After), not
	// a 401 that would make the client drop a good token.
	tok := g.token(t, "wiki.read")
	g.as.SetJWKSDown(true)
	resp, body := call("/api/pages", tok, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "5" ||
		resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("keys unavailable through nginx: %d, Retry-After %q, WWW-Authenticate %q; want 503, 5, none: %s",
			resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("WWW-Authenticate"), body)
	}
	g.as.SetJWKSDown(false)
	g.now.Advance(time.Minute) // past the verifier's wait before it asks again

	resp, body = call("/api/pages?id=1", g.token(t, "wiki.read", "wiki.write"), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("good token through nginx: %d %s", resp.StatusCode, body)
	}
	var e echo
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"X-Forwarded-User": "client:batch-job", "X-Forwarded-Provider": "bearer",
		"X-Forwarded-Scopes": "wiki.read wiki.write", "X-Forwarded-Email-Verified": "false",
	} {
		if got := e.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("app got %s = %q, want %q", k, got, v)
		}
	}
	for k := range e.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-auth-request") {
			t.Errorf("app got %s", k)
		}
	}

	// A forged identity header with a good token: refused, never passed on.
	for _, h := range []string{"X-Forwarded-Scopes", "X-Forwarded-User", "X-Auth-Request-Scopes"} {
		resp, body := call("/api/pages", g.token(t, "wiki.read"), map[string]string{h: "admin"})
		if resp.StatusCode == http.StatusOK && strings.Contains(body, "admin") {
			t.Errorf("forged %s reached the app: %s", h, body)
		}
	}

	// Each refusal keeps the challenge that tells the client what to do
	// (RFC 6750 3.1): nginx copies it onto a 401 by itself, the example
	// onto the 403 and the 400.
	for _, c := range []struct {
		name, path, token string
		status            int
		challenge         string
	}{
		{"bad token", "/api/pages", "not-a-jwt", http.StatusUnauthorized, `Bearer error="invalid_token"`},
		{"missing scope", "/api/pages", g.token(t, "wiki.write"), http.StatusForbidden, `Bearer error="insufficient_scope"`},
		{"token on a route without bearer", "/wiki", g.token(t, "wiki.read"), http.StatusUnauthorized, `Bearer error="invalid_token"`},
		{"two tokens in one header", "/api/pages", "a.b.c d.e.f", http.StatusBadRequest, `Bearer error="invalid_request"`},
	} {
		resp, body := call(c.path, c.token, nil)
		if got := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != c.status || len(got) != 1 || got[0] != c.challenge {
			t.Errorf("%s through nginx: %d, WWW-Authenticate %q; want %d, %q: %s", c.name, resp.StatusCode, got, c.status, c.challenge, body)
		}
		if loc := resp.Header.Get("Location"); loc != "" {
			t.Errorf("%s through nginx: redirected to %s", c.name, loc)
		}
	}
}
