package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a command writing while a test
// reads; waitFor wakes on each write instead of polling on a timer.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // closed and replaced on every write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written != nil {
		close(s.written)
		s.written = nil
	}
	return s.b.Write(p)
}

// waitFor returns the first match of re in what was written, waiting for
// more output until timeout (a bound for a hung command, not a latency
// assertion); nil when it never came.
func (s *syncBuffer) waitFor(re *regexp.Regexp, timeout time.Duration) []string {
	expired := time.After(timeout)
	for {
		s.mu.Lock()
		if m := re.FindStringSubmatch(s.b.String()); m != nil {
			s.mu.Unlock()
			return m
		}
		if s.written == nil {
			s.written = make(chan struct{})
		}
		written := s.written
		s.mu.Unlock()
		select {
		case <-written:
		case <-expired:
			return nil
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCheckConfigExample(t *testing.T) {
	for k, v := range map[string]string{
		"SOCIALGATE_COOKIE_SECRET": strings.Repeat("s", 32),
		"GOOGLE_CLIENT_ID":         "g", "GOOGLE_CLIENT_SECRET": "gs",
		"NAVER_CLIENT_ID": "n", "NAVER_CLIENT_SECRET": "ns",
		"KAKAO_REST_API_KEY": "k", "KAKAO_CLIENT_SECRET": "", "REDIS_PASSWORD": "",
	} {
		t.Setenv(k, v)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"check-config", "--config", "../../config.example.yaml"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d; stdout %s; stderr %s", code, out.String(), errb.String())
	}
}

func TestCheckConfigReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(path, []byte(`server:
  public_url: "ftp://gate"
cookie:
  secret: "short"
providers:
  kakao: { client_id: "k", scopez: [] }
upstreams:
  - name: app
    url: "not a url"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code := run(context.Background(), []string{"check-config", "--config", path}, &out, io.Discard)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 4 {
		t.Fatalf("want at least 4 problems, got %d:\n%s", len(lines), out.String())
	}
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(path) + `:\d+: [a-z_\[\]0-9.]+: .+$`)
	for _, l := range lines {
		if !re.MatchString(l) {
			t.Errorf("line %q is not FILE:LINE: key.path: message", l)
		}
	}
	for _, want := range []string{":2: server.public_url:", ":4: cookie.secret:", ":6: providers.kakao.scopez:", ":9: upstreams[0].url:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// startDemo runs `socialgate demo` on a free loopback port and returns its URL.
func startDemo(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"demo", "--addr", "127.0.0.1:0"}, out, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("demo exited %d", code)
			}
		case <-time.After(10 * time.Second):
			t.Error("demo did not stop")
		}
	})
	if m := out.waitFor(regexp.MustCompile(`open (http://127\.0\.0\.1:\d+)/`), 10*time.Second); m != nil {
		return m[1]
	}
	t.Fatalf("demo printed no URL: %q", out.String())
	return ""
}

func TestDemoServesSignInPage(t *testing.T) {
	base := startDemo(t)
	resp, err := http.Get(base + "/oauth2/sign_in")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("sign-in page: %d", resp.StatusCode)
	}
	for _, p := range []string{"kakao", "naver", "google"} {
		if !strings.Contains(string(body), "/oauth2/start/"+p) {
			t.Errorf("sign-in page lacks the %s button", p)
		}
	}
}

// TestDeployConfigs keeps the configs shipped in deploy/ valid.
func TestDeployConfigs(t *testing.T) {
	t.Setenv("SOCIALGATE_COOKIE_SECRET", strings.Repeat("x", 32))
	t.Setenv("KAKAO_REST_API_KEY", "k")
	var out bytes.Buffer
	if code := run(context.Background(), []string{"check-config", "--config", "../../deploy/compose-config.yaml"}, &out, io.Discard); code != 0 {
		t.Fatalf("deploy/compose-config.yaml: exit %d\n%s", code, out.String())
	}
}
