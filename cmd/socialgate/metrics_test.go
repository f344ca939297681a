package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestMetricsListen (issue 8 item 7): with server.metrics_listen, /metrics
// is served there and no longer on the main listener.
func TestMetricsListen(t *testing.T) {
	metrics := freeAddr(t)
	s := serveConfig(t, servedConfig{server: "  metrics_listen: \"" + metrics + "\"\n", upstream: "http://127.0.0.1:9"})
	get := func(u string) (int, string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://" + metrics + "/metrics"); code != 200 || !strings.Contains(body, "socialgate_auth_decisions_total") {
		t.Errorf("metrics listener: %d %.200s", code, body)
	}
	if code, _ := get(s.URL + "/metrics"); code != 404 {
		t.Errorf("main listener /metrics: %d, want 404", code)
	}
	if code, _ := get("http://" + metrics + "/healthz"); code != 404 {
		t.Errorf("metrics listener serves more than /metrics: %d", code)
	}
}
