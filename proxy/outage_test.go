package proxy_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/session"
	"github.com/socialgate/socialgate/session/redistest"
)

// patience is how long a client waits for an answer; an outage must be
// reported well within it.
const patience = 5 * time.Second

// outageClient sends requests as a browser (html) or an API client, with
// its own connection pool so the test can close it.
type outageClient struct {
	t      *testing.T
	c      *http.Client
	cookie string
}

type reply struct {
	status  int
	ctype   string
	body    string
	elapsed time.Duration
}

func (oc *outageClient) get(u string, html bool) reply {
	oc.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "application/json")
	if html {
		req.Header.Set("Accept", "text/html,*/*;q=0.8")
	}
	if oc.cookie != "" {
		req.Header.Set("Cookie", oc.cookie)
	}
	start := time.Now()
	resp, err := oc.c.Do(req)
	if err != nil {
		oc.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header.Get("Content-Type"), string(b), time.Since(start)}
}

// restingGoroutines is the goroutine count once it stops falling:
// goroutines of closed connections take a moment to end.
func restingGoroutines() int {
	n := runtime.NumGoroutine()
	for range 30 {
		time.Sleep(100 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return m
		}
		n = m
	}
	return n
}

// settleGoroutines waits until the goroutine count is at most want, and
// returns the last count. It polls instead of sampling once, for the same
// reason.
func settleGoroutines(want int) int {
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRedisOutage stops Redis under a signed-in user and starts it again.
// Redis keeps an append-only file here, as a production Redis with
// persistence would, so the session is still there after the restart.
func TestRedisOutage(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	g := newGateway(t, gatewayConfig{store: "redis", redisAddr: srv.Addr})
	u := providertest.DefaultUsers("kakao")[0]
	user := "kakao:" + u.ID
	b := newBrowser(t)
	g.login(b, "kakao", u.ID, g.URL+"/app/")
	tr := &http.Transport{}
	oc := &outageClient{t: t, c: &http.Client{Transport: tr, Timeout: 2 * patience,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		cookie: sessionCookie(t, b, g)}

	// Warm every path once, then count goroutines at rest.
	if r := oc.get(g.URL+"/app/x", true); r.status != http.StatusOK {
		t.Fatalf("before the outage: %d", r.status)
	}
	oc.get(g.URL+"/public/x", true)
	tr.CloseIdleConnections()
	b.c.CloseIdleConnections()
	before := restingGoroutines()

	srv.Stop()
	var slowest time.Duration
	for i := range 10 { // several rounds, so a per-request leak would show
		for _, tc := range []struct {
			name, path string
			html       bool
			status     int
			ctype      string
		}{
			{"browser, protected", "/app/x", true, http.StatusServiceUnavailable, "text/html"},
			{"api, protected", "/app/x", false, http.StatusServiceUnavailable, "application/json"},
			{"api, userinfo", "/oauth2/userinfo", false, http.StatusServiceUnavailable, "application/json"},
			{"forward auth", "/oauth2/auth", false, http.StatusServiceUnavailable, "application/json"},
			{"browser, start login", "/oauth2/start/kakao?rd=/app/", true, http.StatusServiceUnavailable, "text/html"},
			{"browser, public", "/public/x", true, http.StatusOK, "application/json"},
			{"readyz", "/readyz", false, http.StatusServiceUnavailable, "text/plain"},
			{"healthz", "/healthz", false, http.StatusOK, "text/plain"},
		} {
			r := oc.get(g.URL+tc.path, tc.html)
			if r.status != tc.status || !strings.HasPrefix(r.ctype, tc.ctype) {
				t.Errorf("round %d, %s: %d %q, want %d %s; body %.200s", i, tc.name, r.status, r.ctype, tc.status, tc.ctype, r.body)
			}
			slowest = max(slowest, r.elapsed)
			if r.elapsed >= patience {
				t.Errorf("round %d, %s: answered after %v, want under %v", i, tc.name, r.elapsed, patience)
			}
			switch {
			case tc.path == "/public/x" && r.status == http.StatusOK:
				if e := decodeEcho(t, r.body); e.Header.Get("X-Forwarded-User") != "" {
					t.Errorf("public route while Redis is down: identity %q sent upstream", e.Header.Get("X-Forwarded-User"))
				}
			case tc.ctype == "application/json" && r.status == http.StatusServiceUnavailable:
				var body struct {
					Error     string `json:"error"`
					RequestID string `json:"request_id"`
				}
				if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Error != "store_unavailable" || body.RequestID == "" {
					t.Errorf("round %d, %s: body %q, want JSON with error store_unavailable and a request_id", i, tc.name, r.body)
				}
			}
		}
		if t.Failed() {
			break
		}
	}

	t.Logf("slowest answer while Redis was down: %v", slowest)

	srv.Restart()
	restarted := time.Now()
	for {
		r := oc.get(g.URL+"/app/x", false)
		if r.status == http.StatusOK {
			if got := decodeEcho(t, r.body).Header.Get("X-Forwarded-User"); got != user {
				t.Errorf("after the restart: X-Forwarded-User %q, want %q", got, user)
			}
			break
		}
		if time.Since(restarted) > patience {
			t.Fatalf("still %d %v after Redis came back; want the user served again within %v", r.status, time.Since(restarted), patience)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("served again %v after Redis came back", time.Since(restarted))
	if r := oc.get(g.URL+"/readyz", false); r.status != http.StatusOK {
		t.Errorf("readyz after the restart: %d, want 200", r.status)
	}

	tr.CloseIdleConnections()
	b.c.CloseIdleConnections()
	const slack = 8 // connection goroutines that come and go
	if after := settleGoroutines(before + slack); after > before+slack {
		t.Errorf("goroutines: %d before the outage, %d after; a leak", before, after)
	}
	assertNoSecretsLogged(t, g)
	if _, value, _ := strings.Cut(oc.cookie, "="); strings.Contains(g.logs.String(), value) {
		t.Errorf("the session cookie value reached the logs")
	}
}

// tarpit accepts TCP connections and never answers: a Redis behind a
// network partition or stuck, not one that refuses connections.
func tarpit(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestRedisUnresponsive: a Redis that accepts connections but never
// answers still gets a signed-in browser a 503 within the client's
// patience, not a hung request.
func TestRedisUnresponsive(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out real network timeouts and asserts latency: full tier only")
	}
	g := newGateway(t, gatewayConfig{store: "redis", redisAddr: tarpit(t)})
	cookies, err := session.NewCookies(session.CookieOptions{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	cookies.WriteSession(w, strings.Repeat("A", 43)) // well formed, so the store is asked
	c := w.Result().Cookies()[0]
	oc := &outageClient{t: t, c: &http.Client{Timeout: 3 * patience}, cookie: c.Name + "=" + c.Value}
	for _, html := range []bool{true, false} {
		r := oc.get(g.URL+"/app/x", html)
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("html %t: status %d, want 503", html, r.status)
		}
		if r.elapsed >= patience {
			t.Errorf("html %t: answered after %v, want under %v", html, r.elapsed, patience)
		}
		t.Logf("html %t: 503 after %v", html, r.elapsed)
	}
}
