package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socialgate/socialgate/providers/providertest"
)

// TestCheckConfigConnectBearer: --connect fetches each bearer issuer's
// metadata and JWKS, and a JWKS that does not answer is a FAILED line.
func TestCheckConfigConnectBearer(t *testing.T) {
	kakao := startFake(t, "kakao")
	as, err := providertest.StartAuthServer(providertest.AuthServerOptions{
		Clients: []providertest.AuthClient{{ID: "job", Secret: "s"}}, Audience: "wiki-api"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(as.Close)
	app := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(app.Close)
	t.Setenv("TEST_SECRET", strings.Repeat("c", 40))
	kep := kakao.Endpoints()
	path := filepath.Join(t.TempDir(), "sg.yaml")
	if err := os.WriteFile(path, fmt.Appendf(nil, `server: { public_url: "http://127.0.0.1:4180" }
cookie: { secret: "${TEST_SECRET}" }
providers:
  kakao:
    client_id: kakao-client
    endpoints: { auth_url: %q, token_url: %q, userinfo_url: %q }
upstreams:
  - name: api
    url: %q
    bearer:
      issuers: [{ issuer: %q, audiences: [wiki-api] }]
    allow: { scopes: [wiki.read] }
`, kep.AuthURL, kep.TokenURL, kep.UserinfoURL, app.URL, as.URL()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("check-config", "--config", path, "--connect")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	want := "bearer issuer " + as.URL() + ": ok, 1 signing key(s) at " + as.JWKSURL()
	if !strings.Contains(out, want) {
		t.Errorf("stdout:\n%s\nwant a line starting %q", out, want)
	}
	as.SetJWKSDown(true)
	code, out, _ = runCLI("check-config", "--config", path, "--connect", "--timeout", "2s")
	if code != 1 || !strings.Contains(out, "bearer issuer "+as.URL()+": FAILED: jwks: ") {
		t.Errorf("JWKS down: exit %d, stdout:\n%s", code, out)
	}
}
