package proxy_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/proxy"
)

// TestForwardAuthFailsClosed: /oauth2/auth judges the URL the proxy in
// front names, and refuses what it cannot believe instead of judging its
// own URL in its place.
func TestForwardAuthFailsClosed(t *testing.T) {
	u := providertest.DefaultUsers("kakao")[0]
	routes := func(up string) []proxy.Route {
		target, _ := url.Parse(up)
		return []proxy.Route{
			{Name: "app", Path: "/", URL: target},
			{Name: "admin", Path: "/admin", URL: target, Allow: proxy.Allow{Users: []string{"kakao:1"}}},
		}
	}
	for _, tc := range []struct {
		name    string
		trusted []string
		hdr     map[string]string
		want    int
	}{
		{"trusted, allowed path", []string{"127.0.0.0/8"}, map[string]string{"X-Forwarded-Uri": "/wiki"}, http.StatusAccepted},
		{"trusted, forbidden path", []string{"127.0.0.0/8"}, map[string]string{"X-Forwarded-Uri": "/admin/secret"}, http.StatusForbidden},
		{"trusted, double slash", []string{"127.0.0.0/8"}, map[string]string{"X-Forwarded-Uri": "//admin/secret"}, http.StatusBadRequest},
		{"trusted, backslash", []string{"127.0.0.0/8"}, map[string]string{"X-Forwarded-Uri": `/admin\secret`}, http.StatusBadRequest},
		{"trusted, space", []string{"127.0.0.0/8"}, map[string]string{"X-Forwarded-Uri": "/admin/a b"}, http.StatusBadRequest},
		{"trusted, bad host", []string{"127.0.0.0/8"}, map[string]string{"X-Forwarded-Host": "a b", "X-Forwarded-Uri": "/wiki"}, http.StatusBadRequest},
		{"untrusted, forwarded uri", nil, map[string]string{"X-Forwarded-Uri": "/wiki"}, http.StatusForbidden},
		{"untrusted, forwarded host", nil, map[string]string{"X-Forwarded-Host": "app.example.com"}, http.StatusForbidden},
		{"untrusted, no forwarded headers", nil, nil, http.StatusAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, gatewayConfig{routes: routes, trusted: tc.trusted})
			b := newBrowser(t)
			if resp, _ := g.login(b, "kakao", u.ID, g.URL+"/wiki"); resp.StatusCode != 200 {
				t.Fatalf("login: %d", resp.StatusCode)
			}
			req, _ := http.NewRequest(http.MethodGet, g.URL+"/oauth2/auth", nil)
			req.Header.Set("Cookie", sessionCookie(t, b, g))
			for k, v := range tc.hdr {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want != http.StatusAccepted && resp.Header.Get("X-Auth-Request-User") != "" {
				t.Errorf("identity sent with a %d", resp.StatusCode)
			}
		})
	}
}
