package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/session/redistest"
)

// metric returns the value line of name in the gateway's /metrics.
func (s *served) metric(name string) string {
	s.t.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(string(body))
	if m == nil {
		return ""
	}
	return m[1]
}

// signOut presses the sign-out button of the confirm page.
func (s *served) signOut(b *http.Client, everywhere bool) {
	s.t.Helper()
	resp, err := b.Get(s.URL + "/oauth2/sign_out")
	if err != nil {
		s.t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		s.t.Fatalf("sign-out page without a csrf token:\n%s", page)
	}
	form := url.Values{"csrf": {string(m[1])}}
	if everywhere {
		form.Set("everywhere", "1")
	}
	noFollow := *b
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err = noFollow.PostForm(s.URL+"/oauth2/sign_out", form)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		s.t.Fatalf("sign-out: status %d", resp.StatusCode)
	}
}

// TestWebSocketEndsWithSignOut: a WebSocket through the gateway carries
// the identity on its handshake and echoes Hangul both ways; it is counted
// in /metrics, and closed with a 1008 close frame within 2 s of signing
// out (plain and everywhere) on the same replica.
func TestWebSocketEndsWithSignOut(t *testing.T) {
	user := providertest.DefaultUsers("kakao")[0]
	for _, everywhere := range []bool{false, true} {
		t.Run(fmt.Sprintf("everywhere=%v", everywhere), func(t *testing.T) {
			s := serveConfig(t, servedConfig{upstream: wsEcho(t).URL, server: "  write_timeout: 1s\n  read_timeout: 1s\n"})
			b, cookie := s.login("/")
			ws, err := dialWS(s.URL, "/chat", cookie)
			if err != nil {
				t.Fatalf("dial through the gateway: %v", err)
			}
			defer ws.Close()
			if got, want := ws.text(t), "user=kakao:"+user.ID; got != want {
				t.Errorf("handshake identity: app saw %q, want %q", got, want)
			}
			// Longer than read_timeout and write_timeout: never cut. The
			// short tier sends the messages without waiting out the
			// timeouts on the wall clock.
			for i := range 3 {
				msg := fmt.Sprintf("안녕하세요 %d", i)
				if err := ws.send(msg); err != nil {
					t.Fatal(err)
				}
				if got := ws.text(t); got != msg {
					t.Fatalf("echo: %q, want %q", got, msg)
				}
				if !testing.Short() {
					time.Sleep(600 * time.Millisecond)
				}
			}
			if got := s.metric("socialgate_upgraded_connections"); got != "1" {
				t.Errorf("socialgate_upgraded_connections = %q while open, want 1", got)
			}

			s.signOut(b, everywhere)
			if code := ws.closedWithin(t, 2*time.Second); code != 1008 {
				t.Errorf("close code %d, want 1008", code)
			}
			waitMetric(t, s, "socialgate_upgraded_connections", "0")
			if got := s.metric(`socialgate_upgraded_connections_ended_total{reason="session_ended"}`); got != "1" {
				t.Errorf("ended_total{session_ended} = %q, want 1", got)
			}
		})
	}
}

// waitMetric polls /metrics until name has value (ReverseProxy lets go of
// a connection a moment after it closed).
func waitMetric(t *testing.T, s *served, name, value string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		got := s.metric(name)
		if got == value {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %q, want %q", name, got, value)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWebSocketEndsWithRevokeOnAnotherReplica: two replicas share a real
// redis-server; the user signs in on one and opens a WebSocket on the
// other; `socialgate sessions revoke` closes it within 2 s, while a
// WebSocket of another user stays open.
func TestWebSocketEndsWithRevokeOnAnotherReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	srv := redistest.Start(t)
	app := wsEcho(t)
	sess := fmt.Sprintf("session:\n  store: redis\n  redis:\n    addrs: [%q]\n    key_prefix: %q\n", srv.Addr, cliPrefix)
	a := serveConfig(t, servedConfig{upstream: app.URL, session: sess})
	b := serveConfig(t, servedConfig{upstream: app.URL, session: sess})
	users := providertest.DefaultUsers("kakao")
	_, cookie := a.login("/")
	ws, err := dialWS(b.URL, "/chat", cookie)
	if err != nil {
		t.Fatalf("dial replica b: %v", err)
	}
	defer ws.Close()
	if got := ws.text(t); got != "user=kakao:"+users[0].ID {
		t.Fatalf("handshake identity on b: %q", got)
	}
	// Another user's WebSocket on b must stay.
	_, other := a.login("/", users[1].ID)
	ws2, err := dialWS(b.URL, "/chat", other)
	if err != nil {
		t.Fatal(err)
	}
	defer ws2.Close()
	if got := ws2.text(t); got != "user=kakao:"+users[1].ID {
		t.Fatalf("second user: %q", got)
	}

	code, out, errOut := runCLI("sessions", "revoke", "--config", a.path, "--user", "kakao:"+users[0].ID)
	if code != 0 {
		t.Fatalf("revoke: exit %d %q %q", code, out, errOut)
	}
	if code := ws.closedWithin(t, 2*time.Second); code != 1008 {
		t.Errorf("close code %d, want 1008", code)
	}
	if err := ws2.send("아직 있어요"); err != nil {
		t.Fatal(err)
	}
	if got := ws2.text(t); got != "아직 있어요" {
		t.Errorf("the other user's WebSocket: %q", got)
	}
}

// TestWebSocketEndsAtExpiry: a WebSocket closes with 1008 when its
// session reaches its absolute lifetime (2 s here), with no request and
// no sign-out; the traffic on it does not keep the session alive.
func TestWebSocketEndsAtExpiry(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a 2 s session lifetime on the wall clock")
	}
	s := serveConfig(t, servedConfig{upstream: wsEcho(t).URL,
		session: "session:\n  store: memory\n  lifetime: 2s\n  idle_timeout: 2s\n  touch_interval: 500ms\n"})
	_, cookie := s.login("/")
	ws, err := dialWS(s.URL, "/chat", cookie)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.text(t)
	if err := ws.send("만료 전"); err != nil || ws.text(t) != "만료 전" {
		t.Fatalf("echo before expiry: %v", err)
	}
	// Created at most 2 s ago: closed within 2 s of the expiry.
	if code := ws.closedWithin(t, 4*time.Second); code != 1008 {
		t.Errorf("close code %d, want 1008", code)
	}
}
