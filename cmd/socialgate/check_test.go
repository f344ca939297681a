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

// TestCheckConfigConnect: --connect asks the store, each provider (Google
// through OpenID discovery, Kakao at its authorization endpoint) and each
// upstream, one line each; anything that does not answer is a FAILED line
// and exit 1, while the config itself stays valid.
func TestCheckConfigConnect(t *testing.T) {
	google := startFake(t, "google")
	kakao := startFake(t, "kakao")
	app := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(app.Close)
	addr, stopRedis := cliRedis(t)
	t.Setenv("TEST_SECRET", strings.Repeat("c", 40))
	kep := kakao.Endpoints()
	path := filepath.Join(t.TempDir(), "sg.yaml")
	if err := os.WriteFile(path, fmt.Appendf(nil, `server: { public_url: "http://127.0.0.1:4180" }
cookie: { secret: "${TEST_SECRET}" }
session:
  store: redis
  redis: { addrs: [%q] }
providers:
  google:
    client_id: google-client
    client_secret: google-secret
    endpoints: { issuer: %q }
  kakao:
    client_id: kakao-client
    endpoints: { auth_url: %q, token_url: %q, userinfo_url: %q }
upstreams:
  - { name: app, url: %q }
`, addr, google.Endpoints().Issuer, kep.AuthURL, kep.TokenURL, kep.UserinfoURL, app.URL), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCLI("check-config", "--config", path, "--connect")
	if code != 0 {
		t.Fatalf("all up: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	wantOK := []string{
		"store redis [" + addr + "]: ok, answered PING",
		"provider google (google): ok, authorization endpoint " + google.Endpoints().AuthURL + " answered 200",
		"provider kakao (kakao): ok, authorization endpoint " + kep.AuthURL + " answered 200",
		"upstream app: ok, " + strings.TrimPrefix(app.URL, "http://") + " accepted a connection",
	}
	t.Logf("all up:\n%s", out)
	assertLines(t, out, wantOK)
	if !strings.HasSuffix(errOut, path+": ok\n") {
		t.Errorf("stderr %q, want it to end with %q", errOut, path+": ok")
	}

	// Without --connect nothing is asked.
	if code, out, _ := runCLI("check-config", "--config", path); code != 0 || out != "" {
		t.Errorf("without --connect: exit %d, stdout %q", code, out)
	}

	google.SetDown(true)
	kakao.SetDown(true)
	app.Close()
	stopRedis()
	code, out, errOut = runCLI("check-config", "--config", path, "--connect", "--timeout", "2s")
	if code != 1 {
		t.Fatalf("all down: exit %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	t.Logf("all down:\n%s", out)
	assertLines(t, out, []string{
		"store redis [" + addr + "]: FAILED: ",
		"provider google (google): FAILED: google: discovery: ",
		"provider kakao (kakao): FAILED: authorization endpoint " + kep.AuthURL + " answered 503",
		"upstream app: FAILED: ",
	})
	if !strings.Contains(errOut, "valid, but 4 of the checks failed") {
		t.Errorf("stderr %q, want the count of failed checks", errOut)
	}
	if strings.Contains(out, "google-secret") {
		t.Error("a client secret reached the output")
	}
}

// assertLines checks that out has exactly len(want) lines, the i-th
// starting with want[i].
func assertLines(t *testing.T, out string, want []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want it to start with %q", i+1, lines[i], w)
		}
	}
}

func startFake(t *testing.T, kind string) *providertest.Fake {
	t.Helper()
	f, err := providertest.Start(kind, providertest.Options{ClientID: kind + "-client", ClientSecret: kind + "-secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}
