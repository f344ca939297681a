package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/socialgate/socialgate/proxy"
)

// TestMetricsOnlyForLoopbackAndTrustedPeers (issue 8 item 7): /metrics on
// the main listener answers loopback and trusted_proxies peers only, and
// nobody when server.metrics_listen serves it elsewhere.
func TestMetricsOnlyForLoopbackAndTrustedPeers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		peer      string
		elsewhere bool
		want      int
		header    map[string]string
	}{
		{"loopback v4", "127.0.0.1:5000", false, 200, nil},
		{"loopback v6", "[::1]:5000", false, 200, nil},
		{"trusted proxy", "10.1.2.3:5000", false, 200, nil},
		{"internet", "203.0.113.5:5000", false, 404, nil},
		{"v4-mapped internet", "[::ffff:203.0.113.5]:5000", false, 404, nil},
		{"no address", "@", false, 404, nil},
		{"loopback, metrics_listen set", "127.0.0.1:5000", true, 404, nil},
		// A load balancer in trusted_proxies relaying the internet (the
		// compose and Kubernetes examples): its client counts, not it.
		{"trusted proxy relaying the internet", "10.1.2.3:5000", false, 404,
			map[string]string{"X-Forwarded-For": "203.0.113.5"}},
		{"trusted proxy relaying a forged internal hop", "10.1.2.3:5000", false, 404,
			map[string]string{"X-Forwarded-For": "127.0.0.1, 203.0.113.5"}},
		{"trusted proxy relaying the cluster", "10.1.2.3:5000", false, 200,
			map[string]string{"X-Forwarded-For": "10.9.8.7"}},
		// An nginx on the same host, not in trusted_proxies: whom it
		// relays is unknown.
		{"untrusted loopback proxy, X-Forwarded-For", "127.0.0.1:5000", false, 404,
			map[string]string{"X-Forwarded-For": "203.0.113.5"}},
		{"untrusted loopback proxy, X-Real-IP", "127.0.0.1:5000", false, 404,
			map[string]string{"X-Real-IP": "203.0.113.5"}},
		{"untrusted loopback proxy, Forwarded", "127.0.0.1:5000", false, 404,
			map[string]string{"Forwarded": "for=203.0.113.5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, gatewayConfig{trusted: []string{"10.0.0.0/8"},
				options: func(o *proxy.Options) { o.MetricsElsewhere = tc.elsewhere }})
			for _, host := range []string{"127.0.0.1", "app.example.com"} {
				r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				r.Host = host
				r.RemoteAddr = tc.peer
				for k, v := range tc.header {
					r.Header.Set(k, v)
				}
				w := httptest.NewRecorder()
				g.srv.ServeHTTP(w, r)
				if w.Code != tc.want {
					t.Errorf("Host %s: status %d, want %d", host, w.Code, tc.want)
				}
			}
		})
	}
}
