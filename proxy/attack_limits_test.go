package proxy_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/socialgate/socialgate/proxy"
	"github.com/socialgate/socialgate/session"
)

// serveReal runs the gateway's own http.Server (Server.Serve, with its
// limits) on another loopback port and returns its address.
func serveReal(t *testing.T, g *gateway) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// TestAttackServerLimits: the http.Server that Serve runs has every
// timeout and the header limit set, by default and as configured.
func TestAttackServerLimits(t *testing.T) {
	type limits struct {
		readHeader, read, write, idle time.Duration
		maxHeader                     int
	}
	for _, tc := range []struct {
		name string
		set  func(*proxy.Options)
		want limits
	}{
		{"defaults", nil, limits{10 * time.Second, 30 * time.Second, 60 * time.Second, 120 * time.Second, 64 << 10}},
		{"configured", func(o *proxy.Options) {
			o.ReadHeaderTimeout, o.ReadTimeout, o.WriteTimeout, o.IdleTimeout = time.Second, 2*time.Second, 3*time.Second, 4*time.Second
			o.MaxHeaderBytes = 8 << 10
		}, limits{time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second, 8 << 10}},
	} {
		g := newGateway(t, gatewayConfig{options: tc.set})
		s := g.srv.HTTPServerForTest()
		if got := (limits{s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, s.MaxHeaderBytes}); got != tc.want {
			t.Errorf("%s: server limits %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestAttackOversizedHeaders: headers past MaxHeaderBytes get 431 from
// the real server, with the default limit and a configured one.
func TestAttackOversizedHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		max  int
		big  int // bytes of cookie to send
	}{
		{"default 64 KiB", 0, 80 << 10},
		{"configured 4 KiB", 4 << 10, 12 << 10},
	} {
		g := newGateway(t, gatewayConfig{options: func(o *proxy.Options) { o.MaxHeaderBytes = tc.max }})
		addr := serveReal(t, g)
		resp := rawRequest(t, addr, rawGet("/public/x", "Cookie: a="+strings.Repeat("x", tc.big)))
		if resp.Status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("%s: status %d, want 431", tc.name, resp.Status)
		}
		many := make([]string, 0, 2000)
		for i := range cap(many) {
			many = append(many, "X-Forwarded-User: admin-"+strings.Repeat("y", 40)+string(rune('a'+i%26)))
		}
		if resp := rawRequest(t, addr, rawGet("/public/x", many...)); resp.Status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("%s, many headers: status %d, want 431", tc.name, resp.Status)
		}
		// Below the limit the same server answers normally.
		if resp := rawRequest(t, addr, rawGet("/healthz")); resp.Status != http.StatusOK {
			t.Errorf("%s: a small request got %d", tc.name, resp.Status)
		}
	}
}

// TestAttackSlowHeaders: a client that never finishes its headers
// (slowloris) is disconnected after ReadHeaderTimeout. The timeout is set
// far below the 10 s default and the wait bounded well above it, so the
// test fails only if the option is ignored.
func TestAttackSlowHeaders(t *testing.T) {
	g := newGateway(t, gatewayConfig{options: func(o *proxy.Options) { o.ReadHeaderTimeout = 200 * time.Millisecond }})
	addr := serveReal(t, g)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /public/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept a connection with unfinished headers open for 5 s (ReadHeaderTimeout 200ms)")
	}
}

// pendingStates starts n logins at kakao, from one browser (b) or, with b
// nil, each from a new cookie-less client, and returns the states.
func pendingStates(t *testing.T, g *gateway, b *browser, n int) []string {
	t.Helper()
	var states []string
	for range n {
		c := b
		if c == nil {
			c = newBrowser(t)
		}
		resp := c.do(http.MethodGet, g.URL+"/oauth2/start/kakao?rd=/x", nil)
		resp.Body.Close()
		u, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || err != nil {
			t.Fatalf("start: status %d", resp.StatusCode)
		}
		states = append(states, u.Query().Get("state"))
	}
	return states
}

// alive counts the states still pending in the store (consuming them).
func alive(t *testing.T, store session.Store, states []string) int {
	t.Helper()
	n := 0
	for _, s := range states {
		_, err := store.TakeLoginState(context.Background(), s)
		switch {
		case err == nil:
			n++
		case !errors.Is(err, session.ErrNotFound):
			t.Fatalf("take login state: %v", err)
		}
	}
	return n
}

// TestAttackPendingLoginsBounded: hammering /oauth2/start from one browser
// leaves at most session.MaxPendingLogins states in the store (the oldest
// are evicted), with either store. Cookie-less clients are bounded by the
// memory store's global cap; the Redis store bounds them only by the
// 10-minute TTL, which every state key carries (docs/SECURITY.md).
func TestAttackPendingLoginsBounded(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		const max = 20
		g := newGateway(t, gatewayConfig{memory: session.MemoryOptions{MaxLoginStates: max}})
		b := newBrowser(t)
		if n := alive(t, g.store, pendingStates(t, g, b, 50)); n != session.MaxPendingLogins {
			t.Errorf("one browser, 50 starts: %d states pending, want %d", n, session.MaxPendingLogins)
		}
		if n := alive(t, g.store, pendingStates(t, g, nil, 5*max)); n > max {
			t.Errorf("%d cookie-less starts: %d states pending, want at most %d", 5*max, n, max)
		}
	})
	t.Run("redis", func(t *testing.T) {
		addr := redisAddr(t)
		g := newGateway(t, gatewayConfig{store: "redis", redisAddr: addr})
		b := newBrowser(t)
		if n := alive(t, g.store, pendingStates(t, g, b, 50)); n != session.MaxPendingLogins {
			t.Errorf("one browser, 50 starts: %d states pending, want %d", n, session.MaxPendingLogins)
		}
		pendingStates(t, g, nil, 30)
		rc := redis.NewClient(&redis.Options{Addr: addr})
		defer rc.Close()
		ctx := context.Background()
		keys, err := rc.Keys(ctx, "sgtest:*").Result()
		if err != nil || len(keys) < 30 {
			t.Fatalf("keys: %d, %v", len(keys), err)
		}
		for _, k := range keys {
			if ttl, err := rc.PTTL(ctx, k).Result(); err != nil || ttl <= 0 || ttl > 10*time.Minute {
				t.Errorf("key %s: TTL %v (%v), want (0, 10m]", k, ttl, err)
			}
		}
	})
}
