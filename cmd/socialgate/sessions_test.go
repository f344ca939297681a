package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"

	"github.com/socialgate/socialgate/session"
	"github.com/socialgate/socialgate/session/redistest"
)

// cliSecret is the cookie secret of the test configs; it also encrypts the
// Redis values, so the test's own store must use it too.
const cliSecret = "cli-test-cookie-secret-0123456789abcdef"

const cliPrefix = "sgcli:"

// cliConfig is what a test config needs to know.
type cliConfig struct {
	redisAddr string
	publicURL string // zero: http://127.0.0.1:4180
	kakao     struct{ authURL, tokenURL, userinfoURL string }
	upstream  string // zero: http://127.0.0.1:8080
	accounts  bool   // accounts.enabled
}

// writeConfig writes a socialgate YAML file for c and returns its path.
func writeConfig(t *testing.T, c cliConfig) string {
	t.Helper()
	if c.publicURL == "" {
		c.publicURL = "http://127.0.0.1:4180"
	}
	if c.upstream == "" {
		c.upstream = "http://127.0.0.1:8080"
	}
	if c.kakao.authURL == "" {
		c.kakao.authURL = "http://127.0.0.1:1/oauth/authorize"
		c.kakao.tokenURL = "http://127.0.0.1:1/oauth/token"
		c.kakao.userinfoURL = "http://127.0.0.1:1/v2/user/me"
	}
	yaml := fmt.Sprintf(`server:
  listen: "127.0.0.1:0"
  public_url: %q
cookie:
  secret: %q
session:
  store: redis
  redis:
    addrs: [%q]
    key_prefix: %q
providers:
  kakao:
    client_id: "kakao-client"
    endpoints:
      auth_url: %q
      token_url: %q
      userinfo_url: %q
upstreams:
  - name: app
    path: "/"
    url: %q
`, c.publicURL, cliSecret, c.redisAddr, cliPrefix, c.kakao.authURL, c.kakao.tokenURL, c.kakao.userinfoURL, c.upstream)
	if c.accounts {
		yaml += "accounts:\n  enabled: true\n"
	}
	path := filepath.Join(t.TempDir(), "socialgate.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// cliRedis starts a Redis for one test and returns its address and a stop
// function: a real redis-server, or under -short an in-process miniredis, so
// the sessions commands stay covered in the short tier.
func cliRedis(t *testing.T) (addr string, stop func()) {
	t.Helper()
	if testing.Short() {
		mr := miniredis.RunT(t)
		return mr.Addr(), mr.Close
	}
	srv := redistest.Start(t)
	return srv.Addr, srv.Stop
}

// cliStore is a store on the test's Redis as the gateway sees it.
func cliStore(t *testing.T, addr string) (*session.Redis, *session.Manager) {
	t.Helper()
	r, err := session.NewRedis(session.RedisOptions{Addrs: []string{addr}, Secret: []byte(cliSecret), KeyPrefix: cliPrefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	m, err := session.NewManager(session.ManagerOptions{Store: r})
	if err != nil {
		t.Fatal(err)
	}
	return r, m
}

// seed signs users in directly in the store: n sessions each.
func seed(t *testing.T, m *session.Manager, users map[string]int) []*session.Session {
	t.Helper()
	var out []*session.Session
	for user, n := range users {
		provider, subject, _ := strings.Cut(user, ":")
		for range n {
			s, err := m.Create(context.Background(), &session.Session{Provider: provider, Subject: subject,
				Name: "홍길동", AccessToken: "access-" + user, RefreshToken: "refresh-" + user}, "")
			if err != nil {
				t.Fatalf("seed %s: %v", user, err)
			}
			out = append(out, s)
		}
	}
	return out
}

// runCLI runs the command line and returns its exit code and output.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func liveCount(t *testing.T, r *session.Redis, user string) int {
	t.Helper()
	list, err := r.ListUser(context.Background(), user)
	if err != nil {
		t.Fatalf("ListUser(%s): %v", user, err)
	}
	return len(list)
}

func TestSessionsList(t *testing.T) {
	addr, _ := cliRedis(t)
	path := writeConfig(t, cliConfig{redisAddr: addr})
	r, m := cliStore(t, addr)
	seeded := seed(t, m, map[string]int{"kakao:3456789012": 2, "naver:other": 1})

	for _, tc := range []struct {
		args  []string
		users []string // the user each line starts with, in order
	}{
		{[]string{"--user", "kakao:3456789012"}, []string{"kakao:3456789012", "kakao:3456789012"}},
		{[]string{"--user", "naver:other"}, []string{"naver:other"}},
		{[]string{"--user", "google:nobody"}, nil},
		{[]string{"--all"}, []string{"kakao:3456789012", "kakao:3456789012", "naver:other"}},
	} {
		code, out, errOut := runCLI(append([]string{"sessions", "list", "--config", path}, tc.args...)...)
		if code != 0 {
			t.Fatalf("list %v: exit %d, stderr %q", tc.args, code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if out == "" {
			lines = nil
		}
		if len(lines) != len(tc.users) {
			t.Errorf("list %v: got %d lines, want %d:\n%s", tc.args, len(lines), len(tc.users), out)
		}
		for i, l := range lines {
			if i < len(tc.users) && !strings.HasPrefix(l, tc.users[i]+" started=") {
				t.Errorf("list %v: line %q does not start with %s", tc.args, l, tc.users[i])
			}
		}
		if len(tc.users) == 0 && !strings.Contains(errOut, "no live sessions") {
			t.Errorf("list %v: stderr %q, want it to say there are no live sessions", tc.args, errOut)
		}
		// The session ID is a bearer credential; tokens even more so.
		for _, s := range seeded {
			for what, v := range map[string]string{"session ID": s.ID, "access token": s.AccessToken,
				"refresh token": s.RefreshToken, "csrf token": s.CSRF} {
				if strings.Contains(out+errOut, v) {
					t.Errorf("list %v printed a %s", tc.args, what)
				}
			}
		}
	}
	if n := liveCount(t, r, "kakao:3456789012"); n != 2 {
		t.Errorf("listing changed the store: %d sessions, want 2", n)
	}
	if _, err := m.EndAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI("sessions", "list", "--config", path, "--all"); code != 0 || out != "" || errOut != "no live sessions\n" {
		t.Errorf("list --all on an empty store: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestSessionsRevoke(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		out     string
		remains map[string]int
	}{
		{"one user", []string{"--user", "kakao:3456789012"}, "kakao:3456789012: revoked 2 sessions",
			map[string]int{"kakao:3456789012": 0, "naver:other": 1}},
		{"one session", []string{"--user", "naver:other"}, "naver:other: revoked 1 session",
			map[string]int{"kakao:3456789012": 2, "naver:other": 0}},
		{"unknown user", []string{"--user", "google:nobody"}, "google:nobody: revoked 0 sessions",
			map[string]int{"kakao:3456789012": 2, "naver:other": 1}},
		{"all", []string{"--all"}, "revoked 3 sessions",
			map[string]int{"kakao:3456789012": 0, "naver:other": 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := cliRedis(t)
			path := writeConfig(t, cliConfig{redisAddr: addr})
			r, m := cliStore(t, addr)
			seed(t, m, map[string]int{"kakao:3456789012": 2, "naver:other": 1})
			code, out, errOut := runCLI(append([]string{"sessions", "revoke", "--config", path}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if strings.TrimSpace(out) != tc.out {
				t.Errorf("stdout %q, want %q", out, tc.out)
			}
			for user, want := range tc.remains {
				if got := liveCount(t, r, user); got != want {
					t.Errorf("%s: %d sessions left, want %d", user, got, want)
				}
			}
		})
	}
}

func TestSessionsBadUsage(t *testing.T) {
	addr, _ := cliRedis(t)
	path := writeConfig(t, cliConfig{redisAddr: addr})
	r, m := cliStore(t, addr)
	seed(t, m, map[string]int{"kakao:1": 1})
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	memory := filepath.Join(t.TempDir(), "memory.yaml")
	if err := os.WriteFile(memory, []byte("server: { public_url: \"http://127.0.0.1:4180\" }\n"+
		"cookie: { secret: \""+strings.Repeat("m", 32)+"\" }\n"+
		"providers: { kakao: { client_id: k } }\n"+
		"upstreams: [ { name: app, url: \"http://127.0.0.1:8080\" } ]\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Usage errors exit 2, failures at run time 1.
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no verb", nil, 2, "want 'list' or 'revoke'"},
		{"unknown verb", []string{"delete", "--config", path, "--user", "kakao:1"}, 2, "want 'list' or 'revoke'"},
		{"no config", []string{"list", "--user", "kakao:1"}, 2, "--config is required"},
		{"list without user", []string{"list", "--config", path}, 2, "give --user"},
		{"list --user and --all", []string{"list", "--config", path, "--user", "kakao:1", "--all"}, 2, "give --user"},
		{"revoke without target", []string{"revoke", "--config", path}, 2, "give --user"},
		{"revoke --user and --all", []string{"revoke", "--config", path, "--user", "kakao:1", "--all"}, 2, "give --user"},
		{"user without provider", []string{"revoke", "--config", path, "--user", "1"}, 2, "want PROVIDER:SUBJECT"},
		{"unknown flag", []string{"revoke", "--config", path, "--user", "kakao:1", "--force"}, 2, "flag provided but not defined: -force"},
		{"flag without value", []string{"list", "--config", path, "--user"}, 2, "flag needs an argument: -user"},
		{"stray argument", []string{"list", "--config", path, "--user", "kakao:1", "kakao:2"}, 2, `unexpected argument "kakao:2"`},
		{"missing config file", []string{"revoke", "--config", missing, "--user", "kakao:1"}, 1, "missing.yaml"},
		{"memory store", []string{"revoke", "--config", memory, "--all"}, 1, "cannot be listed or revoked from outside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(append([]string{"sessions"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if !strings.Contains(errOut, tc.msg) {
				t.Errorf("stderr %q, want it to contain %q", errOut, tc.msg)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
	// None of the refused commands touched the store.
	if n := liveCount(t, r, "kakao:1"); n != 1 {
		t.Errorf("after refused commands: %d sessions, want 1", n)
	}

	code, out, _ := runCLI("sessions", "revoke", "-h")
	if code != 0 || !strings.Contains(out, "-user") {
		t.Errorf("revoke -h: exit %d, stdout %q; want 0 and the flags", code, out)
	}
}

// TestSessionsStoreDown: the CLI reports an unreachable Redis in one line
// that names the store, exit 1, without a stack trace. (TestBinary checks
// that go-redis's own log lines stay out of it.)
func TestSessionsStoreDown(t *testing.T) {
	addr, stop := cliRedis(t)
	path := writeConfig(t, cliConfig{redisAddr: addr})
	stop()
	for _, verb := range []string{"list", "revoke"} {
		code, out, errOut := runCLI("sessions", verb, "--config", path, "--user", "kakao:1")
		want := "socialgate: sessions " + verb + ": cannot reach the session store (redis " + addr + "): "
		if code != 1 || out != "" || !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s with Redis down: exit %d, stdout %q, stderr %q; want 1 and one line starting %q", verb, code, out, errOut, want)
		}
	}
}

// TestSessionsListQuotesClientValues: the User-Agent and address a session
// recorded came from the browser; listed in an administrator's terminal
// they are quoted, so escape sequences and line breaks cannot forge lines
// or recolour the screen.
func TestSessionsListQuotesClientValues(t *testing.T) {
	addr, _ := cliRedis(t)
	path := writeConfig(t, cliConfig{redisAddr: addr})
	_, m := cliStore(t, addr)
	evil := "Mozilla\x1b[2J\x1b[31m\r\nkakao:1 started=2026-01-01T00:00:00Z forged"
	if _, err := m.Create(context.Background(), &session.Session{Provider: "kakao", Subject: "7",
		UserAgent: evil, IP: "10.0.0.1\n"}, ""); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("sessions", "list", "--config", path, "--all")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if strings.Count(out, "\n") != 1 || strings.ContainsAny(out, "\x1b\r") {
		t.Errorf("list printed the client's bytes raw: %q", out)
	}
	if !strings.Contains(out, `user_agent="Mozilla\x1b[2J`) || !strings.Contains(out, `ip="10.0.0.1\n"`) {
		t.Errorf("list: %q, want the client's values quoted", out)
	}
}
