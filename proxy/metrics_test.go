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
	}{
		{"loopback v4", "127.0.0.1:5000", false, 200},
		{"loopback v6", "[::1]:5000", false, 200},
		{"trusted proxy", "10.1.2.3:5000", false, 200},
		{"internet", "203.0.113.5:5000", false, 404},
		{"v4-mapped internet", "[::ffff:203.0.113.5]:5000", false, 404},
		{"no address", "@", false, 404},
		{"loopback, metrics_listen set", "127.0.0.1:5000", true, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, gatewayConfig{trusted: []string{"10.0.0.0/8"},
				options: func(o *proxy.Options) { o.MetricsElsewhere = tc.elsewhere }})
			for _, host := range []string{"127.0.0.1", "app.example.com"} {
				r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				r.Host = host
				r.RemoteAddr = tc.peer
				w := httptest.NewRecorder()
				g.srv.ServeHTTP(w, r)
				if w.Code != tc.want {
					t.Errorf("Host %s: status %d, want %d", host, w.Code, tc.want)
				}
			}
		})
	}
}
