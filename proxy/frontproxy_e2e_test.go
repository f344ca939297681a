package proxy_test

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

// TestCaddyForwardAuthExample runs deploy/caddy/Caddyfile, substituted as
// its comments say, in Debian's Caddy 2.6 in front of the app, with the
// same checks as the nginx example.
func TestCaddyForwardAuthExample(t *testing.T) {
	if testing.Short() {
		t.Skip("starts caddy")
	}
	app := nginxApp(t)
	addr := freeLoopbackAddr(t)
	g := newGateway(t, gatewayConfig{trusted: []string{"127.0.0.0/8"}, routes: frontProxyRoutes(addr)})
	startCaddyExample(t, addr, g.URL, app.URL)
	exerciseFrontProxy(t, g, addr)
}

// startCaddyExample runs deploy/caddy/Caddyfile, substituted as its
// comments say, on addr in front of the app at appURL, asking socialgate at
// gateURL, and waits until it listens. Caddy stops with the test.
func startCaddyExample(t *testing.T, addr, gateURL, appURL string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts caddy: not in the -short tier")
	}
	bin, err := exec.LookPath("caddy")
	if err != nil {
		t.Fatalf("caddy not installed (make deps installs Debian's caddy): %v", err)
	}
	raw, err := os.ReadFile("../deploy/caddy/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	site := string(raw)
	for from, to := range map[string]string{
		"app.example.com {": "http://" + addr + " {",
		"127.0.0.1:4180":    strings.TrimPrefix(gateURL, "http://"),
		"127.0.0.1:8080":    strings.TrimPrefix(appURL, "http://"),
	} {
		if !strings.Contains(site, from) {
			t.Fatalf("Caddyfile: no %q to substitute", from)
		}
		site = strings.ReplaceAll(site, from, to)
	}
	dir := t.TempDir()
	sitePath := filepath.Join(dir, "site.caddy")
	mainPath := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(sitePath, []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	// The test's own global options: no admin endpoint, no certificates,
	// state in the temp dir.
	main := fmt.Sprintf("{\n\tadmin off\n\tauto_https off\n\tstorage file_system %s\n}\nimport %s\n", filepath.Join(dir, "data"), sitePath)
	if err := os.WriteFile(mainPath, []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	validate := exec.Command(bin, "validate", "--config", mainPath, "--adapter", "caddyfile")
	validate.Env = env
	if out, err := validate.CombinedOutput(); err != nil {
		t.Fatalf("caddy validate: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "run", "--config", mainPath, "--adapter", "caddyfile")
	cmd.Env = env
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("caddy output:\n%s", out.String())
		}
	})
	waitListening(t, addr)
}

// TestTraefikForwardAuthExample: Traefik is not in Debian, so its example
// is parsed and checked for what the guarantees rest on.
func TestTraefikForwardAuthExample(t *testing.T) {
	raw, err := os.ReadFile("../deploy/traefik/dynamic.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		HTTP struct {
			Middlewares map[string]struct {
				ForwardAuth *struct {
					Address             string   `yaml:"address"`
					TrustForwardHeader  bool     `yaml:"trustForwardHeader"`
					AuthResponseHeaders []string `yaml:"authResponseHeaders"`
				} `yaml:"forwardAuth"`
			} `yaml:"middlewares"`
			Routers map[string]struct {
				Rule        string   `yaml:"rule"`
				Middlewares []string `yaml:"middlewares"`
				Service     string   `yaml:"service"`
			} `yaml:"routers"`
			Services map[string]any `yaml:"services"`
		} `yaml:"http"`
	}
	if err := yaml.UnmarshalWithOptions(raw, &c, yaml.Strict()); err != nil {
		t.Fatalf("dynamic.yml: %v", err)
	}
	fa := c.HTTP.Middlewares["socialgate"].ForwardAuth
	if fa == nil {
		t.Fatal("no socialgate forwardAuth middleware")
	}
	u, err := url.Parse(fa.Address)
	if err != nil || u.Path != "/oauth2/auth" || u.Query().Get("redirect") != "1" {
		t.Errorf("address %q: want /oauth2/auth?redirect=1 (browsers get the 302, API clients the 401)", fa.Address)
	}
	if fa.TrustForwardHeader {
		t.Error("trustForwardHeader: the client's X-Forwarded-* must not reach socialgate")
	}
	// Each listed header replaces the client's copies (or removes them):
	// every identity header the app could read, and Cookie (the app's
	// cookies without socialgate's).
	for _, h := range []string{"X-Auth-Request-User", "X-Auth-Request-Identities", "X-Auth-Request-Email",
		"X-Auth-Request-Email-Verified", "X-Auth-Request-Preferred-Username", "X-Auth-Request-Provider",
		"X-Forwarded-User", "X-Forwarded-Identities", "X-Forwarded-Email", "X-Forwarded-Email-Verified",
		"X-Forwarded-Preferred-Username", "X-Forwarded-Provider", "X-Forwarded-Access-Token", "Cookie"} {
		if !slices.Contains(fa.AuthResponseHeaders, h) {
			t.Errorf("authResponseHeaders lacks %s", h)
		}
	}
	for name, r := range c.HTTP.Routers {
		if !slices.Contains(r.Middlewares, "socialgate") {
			t.Errorf("router %s does not use the socialgate middleware", name)
		}
		if _, ok := c.HTTP.Services[r.Service]; !ok {
			t.Errorf("router %s: no service %q", name, r.Service)
		}
	}
}
