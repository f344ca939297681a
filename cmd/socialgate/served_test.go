package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers/providertest"
)

// served is `socialgate serve` running in this process from a YAML file,
// on a loopback port chosen before it starts (so that public_url, the
// cookies and the redirects all name it).
type served struct {
	t      *testing.T
	URL    string
	path   string
	logs   *syncBuffer
	kakao  *providertest.Fake
	cancel context.CancelFunc
	proc   *os.Process // serveProcess only
	done   chan int
	exited bool
}

// servedConfig is what a test varies; the rest is a minimal valid config.
type servedConfig struct {
	server   string // extra lines under server:, indented two spaces
	upstream string // the app's URL
	session  string // the session section; zero: memory store
	extra    string // top-level sections appended
}

// freeAddr returns a loopback address nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// yaml renders c for a gateway on addr with kakao's fake.
func (c servedConfig) yaml(addr string, kakao *providertest.Fake) string {
	ep := kakao.Endpoints()
	sess := c.session
	if sess == "" {
		sess = "session:\n  store: memory\n"
	}
	return fmt.Sprintf(`server:
  listen: %q
  public_url: "http://%s"
%scookie:
  secret: %q
%sproviders:
  kakao:
    client_id: "kakao-client"
    endpoints: { auth_url: %q, token_url: %q, userinfo_url: %q }
upstreams:
  - name: app
    path: "/"
    url: %q
%s`, addr, addr, c.server, cliSecret, sess, ep.AuthURL, ep.TokenURL, ep.UserinfoURL, c.upstream, c.extra)
}

// serveConfig starts serve with c and waits until it listens.
func serveConfig(t *testing.T, c servedConfig) *served {
	t.Helper()
	kakao, err := providertest.Start("kakao", providertest.Options{ClientID: "kakao-client"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kakao.Close)
	addr := freeAddr(t)
	path := filepath.Join(t.TempDir(), "socialgate.yaml")
	if err := os.WriteFile(path, []byte(c.yaml(addr, kakao)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{t: t, URL: "http://" + addr, path: path, logs: &syncBuffer{}, kakao: kakao, cancel: cancel, done: make(chan int, 1)}
	go func() { s.done <- run(ctx, []string{"serve", "--config", path}, io.Discard, s.logs) }()
	t.Cleanup(func() { s.stop() })
	re := regexp.MustCompile(`"msg":"serving","addr":"` + regexp.QuoteMeta(addr) + `"`)
	for deadline := time.Now().Add(10 * time.Second); !re.MatchString(s.logs.String()); {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", s.logs.String())
		}
		select {
		case code := <-s.done:
			t.Fatalf("serve exited %d:\n%s", code, s.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return s
}

// stop cancels serve (as SIGTERM does) and returns its exit code.
func (s *served) stop() int {
	if s.exited {
		return 0
	}
	s.exited = true
	s.cancel()
	select {
	case code := <-s.done:
		return code
	case <-time.After(30 * time.Second):
		s.t.Errorf("serve did not stop:\n%s", s.logs.String())
		return -1
	}
}

// login signs a new browser in as kakao's first test user (or as), landing
// on path; it returns the browser and its session cookie header.
func (s *served) login(path string, as ...string) (*http.Client, string) {
	s.t.Helper()
	user := providertest.DefaultUsers("kakao")[0].ID
	if len(as) > 0 {
		user = as[0]
	}
	s.kakao.AutoApprove(user)
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	resp, err := b.Get(s.URL + "/oauth2/start/kakao?" + url.Values{"rd": {path}}.Encode())
	if err != nil {
		s.t.Fatalf("login: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	u, _ := url.Parse(s.URL)
	for _, ck := range jar.Cookies(u) {
		if !strings.HasSuffix(ck.Name, "_login") {
			return b, ck.Name + "=" + ck.Value
		}
	}
	s.t.Fatalf("login left no session cookie (status %d)\n%s", resp.StatusCode, s.logs.String())
	return nil, ""
}
