package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/socialgate/socialgate/bearer"
	"github.com/socialgate/socialgate/proxy"
)

// TestNginxForwardAuthBearer runs deploy/nginx/forward-auth.conf in a real
// nginx with socialgate deciding for machine clients: a good token reaches
// the app as client:{client_id} with its scopes, a bad one is a 401 that
// keeps its RFC 6750 challenge, a missing scope a 403, forged identity
// headers never reach the app, and a token on a path without bearer is
// refused.
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

	resp, body := call("/api/pages?id=1", g.token(t, "wiki.read", "wiki.write"), nil)
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

	resp, _ = call("/api/pages", "not-a-jwt", nil)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Location") != "" {
		t.Errorf("bad token through nginx: %d, Location %q; want 401, no redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = call("/api/pages", g.token(t, "wiki.write"), nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("missing scope through nginx: %d, want 403", resp.StatusCode)
	}
	resp, _ = call("/wiki", g.token(t, "wiki.read"), nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token on a route without bearer, through nginx: %d, want 401", resp.StatusCode)
	}
}
