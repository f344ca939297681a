package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers/providertest"
)

// serveProcess runs socialgate (this test binary, see TestMain) as a child
// process with c, so that the test can send it real signals. Its stop
// sends SIGTERM.
func serveProcess(t *testing.T, c servedConfig) *served {
	t.Helper()
	if testing.Short() {
		t.Skip("runs socialgate as a child process")
	}
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
	cmd := exec.Command(os.Args[0], "serve", "--config", path)
	cmd.Env = append(os.Environ(), "SOCIALGATE_TEST_MAIN=1")
	s := &served{t: t, URL: "http://" + addr, path: path, logs: &syncBuffer{}, kakao: kakao, done: make(chan int, 1)}
	cmd.Stderr = s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.proc = cmd.Process
	s.cancel = func() { _ = cmd.Process.Signal(syscall.SIGTERM) }
	go func() {
		_ = cmd.Wait()
		s.done <- cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() {
		if s.stop() != 0 {
			t.Logf("socialgate log:\n%s", s.logs.String())
		}
	})
	re := regexp.MustCompile(`"msg":"serving","addr":"` + regexp.QuoteMeta(addr) + `"`)
	for deadline := time.Now().Add(20 * time.Second); !re.MatchString(s.logs.String()); {
		if time.Now().After(deadline) {
			t.Fatalf("socialgate did not start:\n%s", s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// rewrite replaces the config file (a reload reads it again).
func (s *served) rewrite(c servedConfig) {
	s.t.Helper()
	u := strings.TrimPrefix(s.URL, "http://")
	if err := os.WriteFile(s.path, []byte(c.yaml(u, s.kakao)), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// hup sends SIGHUP and waits for the log line that says how it went.
func (s *served) hup(want string) {
	s.t.Helper()
	before := strings.Count(s.logs.String(), want)
	if err := s.proc.Signal(syscall.SIGHUP); err != nil {
		s.t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); strings.Count(s.logs.String(), want) == before; {
		if time.Now().After(deadline) {
			s.t.Fatalf("no %q after SIGHUP:\n%s", want, s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reloadApp is an app with a WebSocket echo at /chat, a response of
// known length written over 2 s at /slow (started is signalled when it
// begins), and its name everywhere else.
func reloadApp(t *testing.T, name string, started chan<- struct{}) string {
	t.Helper()
	ws := wsEcho(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "20")
		if started != nil {
			started <- struct{}{}
		}
		rc := http.NewResponseController(w)
		for range 20 {
			_, _ = w.Write([]byte("x"))
			_ = rc.Flush()
			time.Sleep(100 * time.Millisecond)
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", name, r.Header.Get("X-Forwarded-User"))
	})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chat" {
			ws.Config.Handler.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// get returns the body of a GET with b, or "" and the error text.
func get(b *http.Client, u string) string {
	resp, err := b.Get(u)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(body)
}

// TestReload: SIGHUP with a good config moves a route to another app at
// once, while a slow request and a WebSocket opened before it go on
// undisturbed and the session stays; SIGHUP with a broken config logs
// check-config's FILE:LINE lines and changes nothing; a changed cookie
// secret is refused with a clear message.
func TestReload(t *testing.T) {
	started := make(chan struct{}, 4)
	one, two := reloadApp(t, "one", started), reloadApp(t, "two", nil)
	cfg := servedConfig{upstream: one, server: "  write_timeout: 5s\n"}
	s := serveProcess(t, cfg)
	b, cookie := s.login("/")
	if got := get(b, s.URL+"/page"); !strings.HasPrefix(got, "one kakao:") {
		t.Fatalf("before reload: %q", got)
	}
	ws, err := dialWS(s.URL, "/chat", cookie)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.text(t) // identity
	slow := make(chan string, 1)
	go func() { slow <- get(b, s.URL+"/slow") }()
	<-started

	// A good config: every route now goes to app two.
	var served atomic.Int32
	stopLoad := make(chan struct{})
	loadDone := make(chan struct{})
	go func() { // requests in flight all through the reload
		defer close(loadDone)
		for {
			select {
			case <-stopLoad:
				return
			default:
			}
			if got := get(b, s.URL+"/page"); !strings.HasPrefix(got, "one kakao:") && !strings.HasPrefix(got, "two kakao:") {
				t.Errorf("during reload: %q", got)
				return
			}
			served.Add(1)
		}
	}()
	cfg.upstream = two
	s.rewrite(cfg)
	s.hup(`"msg":"config reloaded"`)
	close(stopLoad)
	<-loadDone
	if got := get(b, s.URL+"/page"); !strings.HasPrefix(got, "two kakao:") {
		t.Errorf("after reload: %q, want app two with the same session", got)
	}
	if got := <-slow; got != strings.Repeat("x", 20) {
		t.Errorf("slow request across the reload: %q", got)
	}
	if err := ws.send("리로드 후"); err != nil {
		t.Fatal(err)
	}
	if got := ws.text(t); got != "리로드 후" {
		t.Errorf("WebSocket across the reload: %q", got)
	}
	if served.Load() == 0 {
		t.Error("no request ran during the reload")
	}

	// A broken config: logged with FILE:LINE, the running one stays.
	if err := os.WriteFile(s.path, []byte(cfg.yaml(strings.TrimPrefix(s.URL, "http://"), s.kakao)+"bogus_key: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.hup(`"msg":"reload refused"`)
	if !regexp.MustCompile(regexp.QuoteMeta(s.path) + `:\d+: bogus_key`).MatchString(s.logs.String()) {
		t.Errorf("the refusal does not carry check-config's FILE:LINE line:\n%s", s.logs.String())
	}
	if got := get(b, s.URL+"/page"); !strings.HasPrefix(got, "two kakao:") {
		t.Errorf("after a bad reload: %q, want the running config", got)
	}

	// A team template that does not render: refused with its FILE:LINE.
	tmpl := filepath.Join(t.TempDir(), "tmpl")
	if err := os.MkdirAll(tmpl, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmpl, "error.html"), []byte(`{{.NoSuchField}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	withUI := cfg.yaml(strings.TrimPrefix(s.URL, "http://"), s.kakao) + "ui:\n  templates_dir: " + tmpl + "\n"
	if err := os.WriteFile(s.path, []byte(withUI), 0o600); err != nil {
		t.Fatal(err)
	}
	s.hup(`ui.templates_dir: error.html`)
	if !regexp.MustCompile(regexp.QuoteMeta(s.path) + `:\d+: ui.templates_dir: error.html`).MatchString(s.logs.String()) {
		t.Errorf("the template refusal does not carry FILE:LINE:\n%s", s.logs.String())
	}
	if got := get(b, s.URL+"/page"); !strings.HasPrefix(got, "two kakao:") {
		t.Errorf("after a refused template: %q", got)
	}

	// A changed cookie secret: refused, the session stays valid.
	changed := strings.Replace(cfg.yaml(strings.TrimPrefix(s.URL, "http://"), s.kakao), cliSecret, cliSecret+"-rotated", 1)
	if err := os.WriteFile(s.path, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	s.hup(`cookie.secret`)
	if !strings.Contains(s.logs.String(), "needs a restart") {
		t.Errorf("no clear message for the changed secret:\n%s", s.logs.String())
	}
	if got := get(b, s.URL+"/page"); !strings.HasPrefix(got, "two kakao:") {
		t.Errorf("after a refused secret change: %q", got)
	}
	if err := ws.send("still"); err != nil || ws.text(t) != "still" {
		t.Errorf("WebSocket after the refused reloads: %v", err)
	}
}

// TestGracefulStop: SIGTERM while a slow request is in flight and a
// WebSocket is open: new connections are refused at once, the slow
// request completes whole, the WebSocket gets a 1001 close frame, and the
// process exits 0.
func TestGracefulStop(t *testing.T) {
	started := make(chan struct{}, 1)
	app := reloadApp(t, "one", started)
	s := serveProcess(t, servedConfig{upstream: app, server: "  shutdown_timeout: 10s\n"})
	b, cookie := s.login("/")
	ws, err := dialWS(s.URL, "/chat", cookie)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.text(t)
	slow := make(chan string, 1)
	go func() { slow <- get(b, s.URL+"/slow") }()
	<-started
	if err := s.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Not accepting: wait for the listener to close, well before the slow
	// request (2 s) ends.
	refused := false
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.URL, "http://"), 200*time.Millisecond)
		if err != nil {
			refused = true
			break
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
	if !refused {
		t.Error("still accepting connections 1 s after SIGTERM")
	}
	if got := <-slow; got != strings.Repeat("x", 20) {
		t.Errorf("slow request in flight at SIGTERM: %q, want it whole", got)
	}
	if code := ws.closedWithin(t, 5*time.Second); code != 1001 {
		t.Errorf("WebSocket close code %d, want 1001 (going away)", code)
	}
	select {
	case code := <-s.done:
		s.exited = true
		if code != 0 {
			t.Errorf("exit code %d\n%s", code, s.logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("did not exit")
	}

}
