package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/config"
)

// TestServerLimits: the http.Server that serve runs has every timeout and
// the header limit set, by default and as configured, and an explicit 0
// is "no limit" (IdleTimeout -1: net/http would otherwise fall back to
// ReadTimeout).
func TestServerLimits(t *testing.T) {
	type limits struct {
		readHeader, read, write, idle time.Duration
		maxHeader                     int
	}
	for _, tc := range []struct {
		name, server string
		want         limits
	}{
		{"defaults", "", limits{10 * time.Second, 30 * time.Second, 60 * time.Second, 120 * time.Second, 64 << 10}},
		{"configured", "  read_header_timeout: 1s\n  read_timeout: 2s\n  write_timeout: 3s\n  idle_timeout: 4s\n  max_header_bytes: 8192\n",
			limits{time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second, 8 << 10}},
		{"zero is no limit", "  read_timeout: 0s\n  write_timeout: 0s\n  idle_timeout: 0s\n",
			limits{10 * time.Second, 0, 0, -1, 64 << 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadYAML(t, "server:\n  public_url: http://127.0.0.1:4180\n"+tc.server+
				"cookie:\n  secret: "+cliSecret+"\nproviders:\n  kakao: {client_id: k}\nupstreams:\n  - {name: a, url: 'http://127.0.0.1:9'}\n")
			s := newHTTPServer(cfg.Server, http.NotFoundHandler(), slog.New(slog.DiscardHandler), context.Background())
			if got := (limits{s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, s.MaxHeaderBytes}); got != tc.want {
				t.Errorf("server limits %+v, want %+v", got, tc.want)
			}
		})
	}
}

func loadYAML(t *testing.T, doc string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("c.yaml", []byte(doc), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// serveLimits runs newHTTPServer for the config lines under server: on a
// loopback port, with h.
func serveLimits(t *testing.T, server string, h http.Handler) string {
	t.Helper()
	cfg := loadYAML(t, "server:\n  public_url: http://127.0.0.1:4180\n"+server+
		"cookie:\n  secret: "+cliSecret+"\nproviders:\n  kakao: {client_id: k}\nupstreams:\n  - {name: a, url: 'http://127.0.0.1:9'}\n")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newHTTPServer(cfg.Server, h, slog.New(slog.DiscardHandler), context.Background())
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Close() })
	return ln.Addr().String()
}

// rawStatus sends req on a new connection and returns the status (0 when
// the server answered nothing).
func rawStatus(t *testing.T, addr, req string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		return 0
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAttackOversizedHeaders: headers past max_header_bytes get 431 from
// the real server, with the default limit and a configured one.
func TestAttackOversizedHeaders(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, tc := range []struct {
		name, server string
		big          int // bytes of cookie to send
	}{
		{"default 64 KiB", "", 80 << 10},
		{"configured 4 KiB", "  max_header_bytes: 4096\n", 12 << 10},
	} {
		addr := serveLimits(t, tc.server, ok)
		get := func(headers ...string) string {
			return "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + strings.Join(append(headers, ""), "\r\n") + "\r\n"
		}
		if s := rawStatus(t, addr, get("Cookie: a="+strings.Repeat("x", tc.big))); s != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("%s: status %d, want 431", tc.name, s)
		}
		many := make([]string, 0, 2000)
		for i := range cap(many) {
			many = append(many, "X-Forwarded-User: admin-"+strings.Repeat("y", 40)+string(rune('a'+i%26)))
		}
		if s := rawStatus(t, addr, get(many...)); s != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("%s, many headers: status %d, want 431", tc.name, s)
		}
		// Below the limit the same server answers normally.
		if s := rawStatus(t, addr, get()); s != http.StatusOK {
			t.Errorf("%s: a small request got %d", tc.name, s)
		}
	}
}

// TestAttackSlowHeaders: a client that never finishes its headers
// (slowloris) is disconnected after read_header_timeout. The timeout is
// set far below the 10 s default and the wait bounded well above it, so
// the test fails only if the option is ignored.
func TestAttackSlowHeaders(t *testing.T) {
	addr := serveLimits(t, "  read_header_timeout: 200ms\n", http.NotFoundHandler())
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept a connection with unfinished headers open for 5 s (read_header_timeout 200ms)")
	}
}

// slowApp answers /slow with a body of known length written over 2 s,
// and /events with n server-sent events, each sent only after the test
// saw the previous one (acks), 300 ms apart.
func slowApp(t *testing.T, acks chan int) *httptest.Server {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		switch r.URL.Path {
		case "/slow":
			w.Header().Set("Content-Length", "20")
			for range 20 {
				_, _ = w.Write([]byte("x"))
				_ = rc.Flush()
				time.Sleep(100 * time.Millisecond)
			}
		case "/events":
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			w.Header().Set("Content-Type", "text/event-stream")
			for i := range n {
				fmt.Fprintf(w, "id: %d\ndata: 이벤트 %d\n\n", i, i)
				_ = rc.Flush()
				select {
				case got := <-acks:
					if got != i {
						return
					}
				case <-time.After(5 * time.Second):
					return // the event was held back by the gateway
				case <-r.Context().Done():
					return
				}
				time.Sleep(300 * time.Millisecond)
			}
		}
	}))
	t.Cleanup(app.Close)
	return app
}

// TestSSEOutlivesWriteTimeout: with write_timeout and read_timeout 1 s, a
// proxied event stream of 3 s arrives whole, each event before the app
// sends the next (the app waits for the test to see it: not buffered).
// The same gateway still cuts a slow response of known length (the
// gateway's limits still hold for everything that is not a stream).
func TestSSEOutlivesWriteTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3 s stream against real server timeouts: full tier only")
	}
	acks := make(chan int)
	app := slowApp(t, acks)
	s := serveConfig(t, servedConfig{server: "  write_timeout: 1s\n  read_timeout: 1s\n", upstream: app.URL})
	b, _ := s.login("/")

	const n = 10
	resp, err := b.Get(s.URL + "/events?n=" + strconv.Itoa(n))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("events: status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	next := 0
	for sc.Scan() && next < n {
		if line := sc.Text(); strings.HasPrefix(line, "data: ") {
			if want := fmt.Sprintf("data: 이벤트 %d", next); line != want {
				t.Fatalf("event %d: got %q, want %q", next, line, want)
			}
			acks <- next
			next++
		}
	}
	if next != n {
		t.Fatalf("stream ended after %d of %d events (%v)", next, n, sc.Err())
	}

	// Control: a response of known length that takes 2 s is cut at 1 s.
	r2, err := b.Get(s.URL + "/slow")
	if err == nil {
		body, rerr := io.ReadAll(r2.Body)
		r2.Body.Close()
		if rerr == nil && len(body) == 20 {
			t.Fatal("a 2 s response of known length came through whole with write_timeout 1s: the limit is not applied")
		}
	}
}

// TestWriteTimeoutZero: write_timeout: 0s is no limit (it was replaced by
// the 60 s default): the same 2 s response arrives whole.
func TestWriteTimeoutZero(t *testing.T) {
	if testing.Short() {
		t.Skip("a 2 s response against real server timeouts: full tier only")
	}
	app := slowApp(t, nil)
	s := serveConfig(t, servedConfig{server: "  write_timeout: 0s\n  read_timeout: 0s\n  idle_timeout: 0s\n", upstream: app.URL})
	b, _ := s.login("/")
	resp, err := b.Get(s.URL + "/slow")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(body) != 20 {
		t.Fatalf("slow response with write_timeout 0s: %d bytes, %v; want all 20", len(body), err)
	}
}
