package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers/providertest"
)

// TestServe runs `socialgate serve` from a YAML file against the fake Kakao
// and checks that it answers and stops cleanly on cancel.
func TestServe(t *testing.T) {
	fake, err := providertest.Start("kakao", providertest.Options{ClientID: "kid"})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	ep := fake.Endpoints()
	cfg := fmt.Sprintf(`server:
  listen: "127.0.0.1:0"
  public_url: "http://127.0.0.1:4180"
cookie:
  secret: "${TEST_SECRET}"
providers:
  kakao:
    client_id: kid
    endpoints: { auth_url: %q, token_url: %q, userinfo_url: %q }
upstreams:
  - name: app
    url: "http://127.0.0.1:9"
`, ep.AuthURL, ep.TokenURL, ep.UserinfoURL)
	path := filepath.Join(t.TempDir(), "sg.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_SECRET", strings.Repeat("z", 40))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	errOut := &syncBuffer{}
	go func() { done <- run(ctx, []string{"--config", path}, io.Discard, errOut) }()

	// serve listens on a port of its own choosing and logs it.
	m := errOut.waitFor(regexp.MustCompile(`"msg":"serving","addr":"(127\.0\.0\.1:\d+)"`), 10*time.Second)
	if m == nil {
		t.Fatalf("serve logged no address:\n%s", errOut.String())
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	addr := m[1]
	resp, err := noFollow.Get("http://" + addr + "/oauth2/start/kakao?rd=/x")
	if err != nil {
		t.Fatalf("serve did not answer: %v\n%s", err, errOut.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), ep.AuthURL) {
		t.Errorf("start: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d\n%s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
	if !strings.Contains(errOut.String(), `"msg":"serving"`) {
		t.Errorf("no JSON log line for serving:\n%s", errOut.String())
	}
}
