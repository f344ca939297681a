package main

import (
	"strings"
	"testing"
)

// TestNeedsRestart: what a reload takes over and what it refuses.
func TestNeedsRestart(t *testing.T) {
	base := func(server, cookie, rest string) string {
		return "server:\n  public_url: http://127.0.0.1:4180\n" + server +
			"cookie:\n  secret: " + cliSecret + "\n" + cookie +
			"providers:\n  kakao: {client_id: k}\n" + rest
	}
	ups := "upstreams:\n  - {name: a, url: 'http://127.0.0.1:9'}\n"
	cur := loadYAML(t, base("", "", ups))
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"same", base("", "", ups), ""},
		{"routes and policies", base("", "", "upstreams:\n  - {name: b, path: /b/, url: 'http://127.0.0.1:8', allow: {users: ['kakao:1']}}\n  - {name: a, url: 'http://127.0.0.1:9'}\n"), ""},
		{"provider and pages", strings.Replace(base("", "", ups), "client_id: k", "client_id: k2", 1) + "ui:\n  app_name: 위키\nlogin:\n  replay_max_bytes: 0\n", ""},
		{"cookie flags", base("", "  name: other\n", ups), ""},
		{"cookie secret", strings.Replace(base("", "", ups), cliSecret, cliSecret+"x", 1), "cookie.secret"},
		{"session store", base("", "", ups) + "session:\n  store: redis\n", "session.store"},
		{"session lifetime", base("", "", ups) + "session:\n  lifetime: 1h\n", "under session"},
		{"listen", base("  listen: 127.0.0.1:9999\n", "", ups), "server.listen"},
		{"write timeout", base("  write_timeout: 0s\n", "", ups), "timeouts"},
		{"log level", base("", "", ups) + "log:\n  level: debug\n", "under log"},
	} {
		got := needsRestart(cur, loadYAML(t, tc.doc))
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: needsRestart = %q, want %q", tc.name, got, tc.want)
		}
	}
}
