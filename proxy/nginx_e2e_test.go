package proxy_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/proxy"
)

// nginxExample is deploy/nginx/forward-auth.conf, run verbatim but for the
// substitutions its comments name.
const nginxExample = "../deploy/nginx/forward-auth.conf"

// startNginx runs nginx on a loopback port with the shipped example
// included, substituted; it returns nginx's address. nginx stops with the
// test.
func startNginx(t *testing.T, subst map[string]string) {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("nginx not installed (make deps installs Debian's nginx-light): %v", err)
		}
	}
	raw, err := os.ReadFile(nginxExample)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(raw)
	for from, to := range subst {
		if !strings.Contains(conf, from) {
			t.Fatalf("%s: no %q to substitute", nginxExample, from)
		}
		conf = strings.ReplaceAll(conf, from, to)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	site := filepath.Join(dir, "forward-auth.conf")
	main := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(site, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var user string
	if os.Geteuid() == 0 {
		user = "user root;\n" // temp dirs below are root's
	}
	mainConf := fmt.Sprintf(`%sdaemon off;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log info;
events { worker_connections 128; }
http {
  access_log off;
  client_body_temp_path %[2]s/body;
  proxy_temp_path %[2]s/proxy;
  fastcgi_temp_path %[2]s/fastcgi;
  uwsgi_temp_path %[2]s/uwsgi;
  scgi_temp_path %[2]s/scgi;
  include %[3]s;
}
`, user, dir, site)
	if err := os.WriteFile(main, []byte(mainConf), 0o644); err != nil {
		t.Fatal(err)
	}
	// nginx -t: the example loads with only the documented substitutions.
	if out, err := exec.Command(bin, "-t", "-p", dir, "-e", dir+"/error.log", "-c", main).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-p", dir, "-e", dir+"/error.log", "-c", main)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt) // fast shutdown
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx output:\n%s\nerror.log:\n%s", out.String(), log)
		}
	})
}

// startNginxExample runs the shipped nginx example on addr in front of the
// app at appURL, asking socialgate at gateURL, and waits until it listens.
func startNginxExample(t *testing.T, addr, gateURL, appURL string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts nginx: not in the -short tier")
	}
	startNginx(t, map[string]string{
		"listen 443 ssl;": "listen " + addr + ";",
		"app.example.com": "127.0.0.1",
		"127.0.0.1:4180":  strings.TrimPrefix(gateURL, "http://"),
		"127.0.0.1:8080":  strings.TrimPrefix(appURL, "http://"),
	})
	waitListening(t, addr)
}

// waitListening waits until addr accepts connections.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never listened: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// nginxApp is the app behind nginx: it echoes what it received, streams
// server-sent events on /events (the second only after the client has
// seen the first) and echoes bytes on an upgraded /ws connection.
func nginxApp(t *testing.T) *httptest.Server {
	release := make(chan struct{})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/events":
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data: one\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-time.After(5 * time.Second):
			}
			fmt.Fprint(w, "data: two\n\n")
		case "/events/release":
			close(release)
		case "/ws":
			if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
				http.Error(w, "upgrade expected", http.StatusBadRequest)
				return
			}
			c, rw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer c.Close()
			fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Seen-User: %s\r\n\r\n",
				r.Header.Get("X-Forwarded-User"))
			rw.Flush()
			line, _ := rw.ReadString('\n')
			fmt.Fprint(rw, "echo "+line)
			rw.Flush()
		default:
			echoHeaders(w, r)
		}
	}))
	t.Cleanup(app.Close)
	return app
}

// TestNginxForwardAuthExample runs deploy/nginx/forward-auth.conf in a real
// nginx in front of an app, with socialgate deciding: a full login through
// nginx to a Hangul deep link with '&' and a port, the app's view of the
// identity and cookies, forged identity headers, a forbidden path, an API
// client, server-sent events and a WebSocket.
func TestNginxForwardAuthExample(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx")
	}
	app := nginxApp(t)
	nginxAddr := freeLoopbackAddr(t)
	g := newGateway(t, gatewayConfig{trusted: []string{"127.0.0.0/8"}, routes: frontProxyRoutes(nginxAddr)})
	startNginxExample(t, nginxAddr, g.URL, app.URL)
	exerciseFrontProxy(t, g, nginxAddr)
}

// frontProxyRoutes are socialgate's routes for the app behind a front proxy on
// addr: forward-auth only (no url), an admin path for kakao:1 only, a
// public area.
func frontProxyRoutes(addr string) func(string) []proxy.Route {
	return func(string) []proxy.Route {
		return []proxy.Route{
			{Name: "app", Host: addr, Path: "/"},
			{Name: "admin", Host: addr, Path: "/admin", Allow: proxy.Allow{Users: []string{"kakao:1"}}},
			{Name: "public", Host: addr, Path: "/public", Public: true},
		}
	}
}

// exerciseFrontProxy drives the front proxy on addr (nginx, Caddy) in
// front of nginxApp with socialgate g deciding: a full login to a Hangul
// deep link with '&' and a port, the app's view of identity and cookies,
// forged identity headers, a forbidden path, a public one, API clients,
// server-sent events and a WebSocket.
func exerciseFrontProxy(t *testing.T, g *gateway, addr string) {
	nginxAddr := addr
	base := "http://" + nginxAddr

	// The app's own cookie stays; the gateway's never reach the app.
	b := newBrowser(t)
	nu, _ := url.Parse(base)
	b.c.Jar.SetCookies(nu, []*http.Cookie{{Name: "theme", Value: "dark"}})

	user := providertest.DefaultUsers("kakao")[0]
	deep := "/app/" + url.PathEscape("보고서") + "?id=3&q=" + url.QueryEscape("한글") + "&x=a%26b"
	resp, e := g.login(b, "kakao", user.ID, base+deep)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login through nginx: %d, hops %v", resp.StatusCode, b.hops)
	}
	if last := b.hops[len(b.hops)-1]; last != base+deep {
		t.Errorf("landed on %s, want %s (hops %v)", last, base+deep, b.hops)
	}
	if e.RequestURI != deep {
		t.Errorf("app got %q, want %q", e.RequestURI, deep)
	}
	want := map[string]string{
		"X-Forwarded-User":           "kakao:" + user.ID,
		"X-Forwarded-Email":          user.Email,
		"X-Forwarded-Email-Verified": fmt.Sprint(user.EmailVerified),
		"X-Forwarded-Provider":       "kakao",
	}
	checkAppView := func(label string, h http.Header) {
		t.Helper()
		for k, v := range want {
			if got := h.Values(k); len(got) != 1 || got[0] != v {
				t.Errorf("%s: app got %s = %q, want %q", label, k, got, v)
			}
		}
		// Nothing socialgate's answer lacks: linked identities come only
		// with accounts (TestFrontProxyIdentities), scopes only with a
		// bearer token, and no client copy of either may arrive.
		for _, k := range []string{"X-Forwarded-Identities", "X-Forwarded-Scopes"} {
			if got := h.Values(k); got != nil {
				t.Errorf("%s: app got %s %q", label, k, got)
			}
		}
		if got := h.Get("X-Forwarded-Preferred-Username"); got != url.PathEscape(user.Nickname) {
			t.Errorf("%s: app got name %q, want %q", label, got, url.PathEscape(user.Nickname))
		}
		for k := range h {
			n := strings.ToLower(k)
			if strings.HasPrefix(n, "x-auth-request") || strings.Contains(n, "_") || n == "x-forwarded-access-token" {
				t.Errorf("%s: app got %s: %q", label, k, h[k])
			}
		}
		cookie := strings.Join(h.Values("Cookie"), "; ")
		if strings.Contains(cookie, "_socialgate") || !strings.Contains(cookie, "theme=dark") {
			t.Errorf("%s: app got Cookie %q, want theme=dark without the gateway's", label, cookie)
		}
	}
	checkAppView("after login", e.Header)

	// Forged identity headers: the request is refused, or the app sees
	// only the gateway's values.
	forged := [][2]string{
		{"X-Forwarded-User", "admin"}, {"x-forwarded-user", "admin"}, {"X_Forwarded_User", "admin"},
		{"X-Forwarded-Email", "boss@example.com"}, {"X-Forwarded-Email-Verified", "true"},
		{"X-Forwarded-Provider", "google"}, {"X-Forwarded-Access-Token", "t0ken"},
		{"X-Auth-Request-User", "admin"}, {"X-Auth-Request-Email", "boss@example.com"},
		{"X-Auth-Request-Groups", "admins"}, {"X_Auth_Request_User", "admin"},
		{"X-Forwarded-Preferred-Username", "admin"}, {"Remote-User", "admin"}, {"X-Webauth-User", "admin"},
		{"X-Forwarded-Identities", "google:forged"},
	}
	for _, f := range forged {
		sendForged(t, b, base+"/page", f[0], f[1], checkAppView)
	}

	// A path the user may not use; a public one without a session.
	if resp, _ := b.get(base + "/admin/x"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("/admin/x: %d, want 403", resp.StatusCode)
	}
	// Signed out on a public route, the app learns no identity at all:
	// an app that reads any X-Forwarded-User as signed in must not see one.
	anon := newBrowser(t)
	if resp, body := anon.get(base + "/public/x"); resp.StatusCode != http.StatusOK {
		t.Errorf("public route, signed out: %d, want 200", resp.StatusCode)
	} else {
		var pe echo
		if err := json.Unmarshal([]byte(body), &pe); err != nil {
			t.Fatalf("public route: %v", err)
		}
		for _, k := range []string{"X-Forwarded-User", "X-Forwarded-Identities", "X-Forwarded-Email", "X-Forwarded-Email-Verified",
			"X-Forwarded-Preferred-Username", "X-Forwarded-Provider", "X-Forwarded-Scopes", "X-Forwarded-Access-Token"} {
			if got := pe.Header.Values(k); got != nil {
				t.Errorf("public route, signed out: app got %s %q", k, got)
			}
		}
	}

	// An API client without a session: 401, not a redirect.
	req, _ := http.NewRequest(http.MethodGet, base+"/api/items", nil)
	req.Header.Set("Accept", "application/json")
	if resp, err := anon.c.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("API client: %d, want 401", resp.StatusCode)
		}
	}
	// A browser POST without a session is an API call too.
	if resp := anon.do(http.MethodPost, base+"/form", strings.NewReader("a=1")); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without a session: %d, want 401", resp.StatusCode)
	}

	cookieHeader := func() string {
		var parts []string
		for _, c := range b.c.Jar.Cookies(nu) {
			parts = append(parts, c.Name+"="+c.Value)
		}
		return strings.Join(parts, "; ")
	}

	// Server-sent events arrive unbuffered: the first event before the
	// second is even written.
	t.Run("sse", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, base+"/events", nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("events: %d", resp.StatusCode)
		}
		r := bufio.NewReader(resp.Body)
		line, err := r.ReadString('\n')
		if err != nil || line != "data: one\n" {
			t.Fatalf("first event: %q, %v", line, err)
		}
		rel, _ := http.NewRequest(http.MethodGet, base+"/events/release", nil)
		if resp, err := b.c.Do(rel); err == nil {
			resp.Body.Close()
		}
		rest, _ := io.ReadAll(r)
		if !strings.Contains(string(rest), "data: two") {
			t.Errorf("second event missing: %q", rest)
		}
	})

	// A WebSocket handshake passes with the identity, and bytes flow both ways.
	t.Run("websocket", func(t *testing.T) {
		c, err := net.DialTimeout("tcp", nginxAddr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: %s\r\n\r\n", nginxAddr, cookieHeader())
		r := bufio.NewReader(c)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("X-Seen-User") != "kakao:"+user.ID {
			t.Fatalf("handshake: %d, user %q", resp.StatusCode, resp.Header.Get("X-Seen-User"))
		}
		fmt.Fprint(c, "ping\n")
		if line, err := r.ReadString('\n'); err != nil || line != "echo ping\n" {
			t.Errorf("echo: %q, %v", line, err)
		}
	})
}
