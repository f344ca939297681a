package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socialgate/socialgate/config"
	"github.com/socialgate/socialgate/session"
)

// TestCheckConfigAndServeAgreeOnHosts: one host canonicaliser serves
// config validation, routing and the redirect policy, so a host that
// check-config accepts also starts a server (issue 8: `host:
// my_app.internal` passed check-config and failed serve), and one it
// refuses is refused with its line.
func TestCheckConfigAndServeAgreeOnHosts(t *testing.T) {
	t.Setenv("TEST_SECRET", strings.Repeat("z", 40))
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{"my_app.internal", true},
		{"my_app.internal:8080", true},
		{"App.Example.COM.", true},
		{"위키.example.com", true},
		{"127.0.0.1:8080", true},
		{"[::1]:8080", true},
		{"a:1:2", false},
		{"evil.example'", false},
		{"app.example.com:0", false},
		{"-app.example.com", false},
		{"a..b", false},
	} {
		t.Run(tc.host, func(t *testing.T) {
			cfg := `server:
  public_url: "http://127.0.0.1:4180"
cookie:
  secret: "${TEST_SECRET}"
providers:
  kakao: { client_id: kid }
upstreams:
  - name: app
    host: "` + tc.host + `"
    url: "http://127.0.0.1:9"
  - name: gate
    url: "http://127.0.0.1:9"
`
			path := filepath.Join(t.TempDir(), "sg.yaml")
			if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			code := run(context.Background(), []string{"check-config", "--config", path}, &out, io.Discard)
			if (code == 0) != tc.ok {
				t.Fatalf("check-config exit %d, want ok=%v\n%s", code, tc.ok, out.String())
			}
			if !tc.ok {
				if !strings.Contains(out.String(), ":9: upstreams[0].host:") {
					t.Errorf("check-config output lacks the host's line:\n%s", out.String())
				}
				return
			}
			c, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			mgr, err := session.NewManager(session.ManagerOptions{Store: session.NewMemory(session.MemoryOptions{})})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := newServer(c, mgr, slog.New(slog.DiscardHandler), nil); err != nil {
				t.Errorf("check-config accepted %q, serve refuses it: %v", tc.host, err)
			}
		})
	}
}
