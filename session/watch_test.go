package session

import (
	"context"
	"testing"
	"time"

	"github.com/socialgate/socialgate/session/redistest"
)

// watched starts a Watch on s and returns a channel closed when it ends.
func watched(m *Manager, s *Session) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	stop := m.Watch(s, func() { close(ch) })
	return ch, stop
}

func endsWithin(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("%s: the watch did not end within %v", what, d)
	}
}

func stillOpen(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("%s: the watch ended", what)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestWatchEnds: a watch ends when its session is ended, with its user or
// with everyone; an update (token refresh) and other users' ends leave it.
func TestWatchEnds(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		end  func(m *Manager, s *Session) error
	}{
		{"End", func(m *Manager, s *Session) error { return m.End(ctx, s.ID) }},
		{"EndUser", func(m *Manager, s *Session) error { _, err := m.EndUser(ctx, s.User()); return err }},
		{"EndAll", func(m *Manager, _ *Session) error { _, err := m.EndAll(ctx); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _, _ := newTestManager(t, ManagerOptions{})
			s, err := m.Create(ctx, identity(), "")
			if err != nil {
				t.Fatal(err)
			}
			other := &Session{Provider: "kakao", Subject: "42"}
			o, err := m.Create(ctx, other, "")
			if err != nil {
				t.Fatal(err)
			}
			ch, _ := watched(m, s)
			och, _ := watched(m, o)
			s.AccessToken = "refreshed"
			if err := m.Update(ctx, s); err != nil {
				t.Fatal(err)
			}
			stillOpen(t, ch, "after Update")
			if err := tc.end(m, s); err != nil {
				t.Fatal(err)
			}
			endsWithin(t, ch, 2*time.Second, tc.name)
			if tc.name != "EndAll" {
				stillOpen(t, och, "another user's session")
			}
		})
	}
}

// TestWatchExpiry: a watch ends at the session's absolute expiry, judged
// on the injected clock.
func TestWatchExpiry(t *testing.T) {
	ctx := context.Background()
	m, _, clk := newTestManager(t, ManagerOptions{Lifetime: 100 * time.Millisecond,
		IdleTimeout: 100 * time.Millisecond, TouchInterval: 10 * time.Millisecond})
	s, err := m.Create(ctx, identity(), "")
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := watched(m, s)
	// The timer wakes up in real time but the clock has not moved: live.
	stillOpen(t, ch, "before expiry")
	stillOpen(t, ch, "before expiry")
	clk.Advance(time.Second)
	endsWithin(t, ch, 2*time.Second, "after expiry")
}

// TestWatchStop: a stopped watch is never called.
func TestWatchStop(t *testing.T) {
	ctx := context.Background()
	m, _, _ := newTestManager(t, ManagerOptions{})
	s, err := m.Create(ctx, identity(), "")
	if err != nil {
		t.Fatal(err)
	}
	ch, stop := watched(m, s)
	stop()
	stop()
	if err := m.End(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	stillOpen(t, ch, "stopped")
	if n := len(m.watches.matching(invAll)); n != 0 {
		t.Errorf("%d watches left registered", n)
	}
}

// TestWatchAcrossReplicas: with Redis, a session ended on replica a ends
// the watch on replica b (no cache on either: the watch subscribes on its
// own).
func TestWatchAcrossReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	ctx := context.Background()
	srv := redistest.Start(t)
	mk := func() *Manager {
		r, err := NewRedis(RedisOptions{Addrs: []string{srv.Addr}, Secret: testSecret})
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewManager(ManagerOptions{Store: r})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close(); r.Close() })
		return m
	}
	a, b := mk(), mk()
	for _, tc := range []struct {
		name string
		end  func(s *Session) error
	}{
		{"End", func(s *Session) error { return a.End(ctx, s.ID) }},
		{"EndUser", func(s *Session) error { _, err := a.EndUser(ctx, s.User()); return err }},
	} {
		s, err := a.Create(ctx, identity(), "")
		if err != nil {
			t.Fatal(err)
		}
		ch, _ := watched(b, s)
		if err := tc.end(s); err != nil {
			t.Fatal(err)
		}
		endsWithin(t, ch, 2*time.Second, tc.name+" on another replica")
	}
}
