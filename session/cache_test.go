package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/socialgate/socialgate/session/redistest"
)

func TestManagerCacheAnswersWithoutStore(t *testing.T) {
	ctx := context.Background()
	m, cs, clk := newTestManager(t, ManagerOptions{CacheTTL: 5 * time.Second, TouchInterval: time.Minute})
	s, err := m.Create(ctx, identity(), "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got, err := m.Get(ctx, s.ID)
		if err != nil {
			t.Fatalf("Get %d: %v", i, err)
		}
		if got.Name != "김철수" || got.ID != s.ID {
			t.Fatalf("Get %d: got %q %q, want the session", i, got.ID, got.Name)
		}
		got.Name = "changed by a caller" // must not reach the cache
	}
	if cs.loads != 1 {
		t.Errorf("after 3 Gets within the TTL: got %d loads, want 1", cs.loads)
	}
	if got, _ := m.Get(ctx, s.ID); got.Name != "김철수" {
		t.Errorf("cached copy: got name %q, want 김철수 (callers get copies)", got.Name)
	}
	clk.Advance(5 * time.Second)
	if _, err := m.Get(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if cs.loads != 2 {
		t.Errorf("after the TTL: got %d loads, want 2", cs.loads)
	}
}

func TestManagerCacheTouchesOncePerInterval(t *testing.T) {
	ctx := context.Background()
	m, cs, clk := newTestManager(t, ManagerOptions{CacheTTL: time.Hour, TouchInterval: time.Minute})
	s, err := m.Create(ctx, identity(), "")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance     time.Duration
		wantTouches int
	}{
		{0, 0},
		{30 * time.Second, 0},
		{31 * time.Second, 1}, // 61s since sign-in
		{10 * time.Second, 1},
		{50 * time.Second, 2}, // 60s since the touch: due again
		{time.Second, 2},
	}
	for i, st := range steps {
		clk.Advance(st.advance)
		got, err := m.Get(ctx, s.ID)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if len(cs.touches) != st.wantTouches {
			t.Errorf("step %d: got %d touches, want %d", i, len(cs.touches), st.wantTouches)
		}
		if d := clk.Now().Sub(got.LastSeen); d >= time.Minute {
			t.Errorf("step %d: LastSeen %v old, want under the touch interval", i, d)
		}
	}
	if cs.loads != 1 {
		t.Errorf("got %d loads, want 1 (the cache answers between touches)", cs.loads)
	}
}

func TestManagerCacheLocalInvalidation(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		end  func(m *Manager, s *Session) error
	}{
		{"End", func(m *Manager, s *Session) error { return m.End(ctx, s.ID) }},
		{"EndUser", func(m *Manager, s *Session) error { _, err := m.EndUser(ctx, s.User()); return err }},
		{"EndAll", func(m *Manager, s *Session) error { _, err := m.EndAll(ctx); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := newTestManager(t, ManagerOptions{CacheTTL: time.Hour})
			s, err := m.Create(ctx, identity(), "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Get(ctx, s.ID); err != nil {
				t.Fatal(err)
			}
			if err := tt.end(m, s); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Get(ctx, s.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get after %s: got %v, want ErrNotFound", tt.name, err)
			}
		})
	}
}

func TestCacheDropsLoadsRacingAnInvalidation(t *testing.T) {
	now := time.Now()
	c := newCache(time.Minute, false, time.Now)
	gen := c.generation()
	c.invalidate(invSession + ":other") // any invalidation while loading
	c.put(&Session{ID: "a", Provider: "kakao", Subject: "1"}, gen, now)
	if _, ok := c.get("a", now); ok {
		t.Errorf("a load that raced an invalidation was cached")
	}
	c.put(&Session{ID: "a", Provider: "kakao", Subject: "1"}, c.generation(), now)
	if _, ok := c.get("a", now); !ok {
		t.Errorf("a load with no invalidation in between was not cached")
	}
}

func TestCacheInvalidationMessages(t *testing.T) {
	now := time.Now()
	sessions := []*Session{
		{ID: "k1", Provider: "kakao", Subject: "1"},
		{ID: "k2", Provider: "kakao", Subject: "1"},
		{ID: "k3", Provider: "kakao", Subject: "12"},
		{ID: "n1", Provider: "naver", Subject: "1"},
	}
	tests := []struct {
		msg  string
		left []string
	}{
		{"s:k1", []string{"k2", "k3", "n1"}},
		{"u:kakao:1", []string{"k3", "n1"}},
		{"u:kakao:12", []string{"k1", "k2", "n1"}},
		{"u:kakao", []string{"k1", "k2", "k3", "n1"}},
		{"*", nil},
		{"x:from a newer version", nil}, // unknown: drop everything
	}
	for _, tt := range tests {
		c := newCache(time.Minute, false, time.Now)
		for _, s := range sessions {
			c.put(s, c.generation(), now)
		}
		c.invalidate(tt.msg)
		var left []string
		for _, s := range sessions {
			if _, ok := c.get(s.ID, now); ok {
				left = append(left, s.ID)
			}
		}
		if len(left) != len(tt.left) || (len(left) > 0 && !equalStrings(left, tt.left)) {
			t.Errorf("invalidate(%q): got %v left, want %v", tt.msg, left, tt.left)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCacheRemoteTrust(t *testing.T) {
	clk := newClock()
	now := clk.Now()
	c := newCache(time.Minute, true, clk.Now)
	c.linkUp()
	c.put(&Session{ID: "a", Provider: "kakao", Subject: "1"}, c.generation(), now)
	c.heardAt(c.sinceBase(clk.Now()))
	clk.Advance(linkStaleAfter - time.Millisecond)
	if _, ok := c.get("a", now); !ok {
		t.Fatalf("subscribed and heard from %v ago: the cache does not answer", linkStaleAfter-time.Millisecond)
	}
	clk.Advance(time.Millisecond)
	if _, ok := c.get("a", now); ok {
		t.Errorf("silent for %v: the cache still answers", linkStaleAfter)
	}
	c.heardAt(c.sinceBase(clk.Now()))
	c.linkDown()
	if _, ok := c.get("a", now); ok {
		t.Errorf("link down: the cache still answers")
	}
	c.linkUp()
	if _, ok := c.get("a", now); ok {
		t.Errorf("after resubscribing: an entry from before is still there")
	}
}

// replicas are two Managers with a long cache TTL on one real redis-server,
// each with its own client, like two gateway replicas, on one fake clock:
// the tests advance it where they used to sleep.
func replicas(t *testing.T, srv *redistest.Server) (a, b *Manager, clk *fakeClock) {
	t.Helper()
	clk = newClock()
	mk := func() *Manager {
		r, err := NewRedis(RedisOptions{Addrs: []string{srv.Addr}, Secret: testSecret,
			DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewManager(ManagerOptions{Store: r, CacheTTL: time.Hour, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close(); r.Close() })
		return m
	}
	return mk(), mk(), clk
}

// waitTrusted waits until m's cache answers, so that a test checks the
// cache and not a fallback to the store.
func waitTrusted(t *testing.T, m *Manager) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !m.cache.trusted() {
		if time.Now().After(deadline) {
			t.Fatal("the invalidation link never came up")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func cached(m *Manager, id string) bool {
	m.cache.mu.RLock()
	defer m.cache.mu.RUnlock()
	_, ok := m.cache.entries[id]
	return ok
}

// TestCacheRevocationAcrossReplicas: a sign-out or revocation on one
// replica is refused by the other, whose cache held the session, within
// one second. The check is made once the shared clock has moved one second
// past the revocation, which the design guarantees whatever the
// scheduling: by then the other replica has either applied the message or
// stopped trusting its cache (no PING carrying the new time has come back
// without the message ahead of it). That the message itself arrives is
// checked too, with a lax deadline.
func TestCacheRevocationAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	tests := []struct {
		name   string
		revoke func(m *Manager, s *Session) error
	}{
		{"End", func(m *Manager, s *Session) error { return m.End(ctx, s.ID) }},
		{"EndUser", func(m *Manager, s *Session) error { _, err := m.EndUser(ctx, s.User()); return err }},
		{"EndAll", func(m *Manager, _ *Session) error { _, err := m.EndAll(ctx); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, clk := replicas(t, srv)
			s, err := a.Create(ctx, identity(), "")
			if err != nil {
				t.Fatal(err)
			}
			waitTrusted(t, b)
			if _, err := b.Get(ctx, s.ID); err != nil {
				t.Fatal(err)
			}
			if !cached(b, s.ID) {
				t.Fatal("replica b did not cache the session")
			}
			if err := tt.revoke(a, s); err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Second)
			if got, err := b.Get(ctx, s.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("replica b, 1s after %s on a: got session %v, error %v; want ErrNotFound", tt.name, got != nil, err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for cached(b, s.ID) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if cached(b, s.ID) {
				t.Errorf("replica b never received the invalidation")
			}
		})
	}
}

// TestCacheUpdateAcrossReplicas: refreshed tokens saved on one replica
// replace the other's cached copy.
func TestCacheUpdateAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	a, b, clk := replicas(t, redistest.Start(t))
	s, err := a.Create(ctx, identity(), "")
	if err != nil {
		t.Fatal(err)
	}
	waitTrusted(t, b)
	if _, err := b.Get(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	next := *s
	next.AccessToken = "refreshed"
	if err := a.Update(ctx, &next); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	got, err := b.Get(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != "refreshed" {
		t.Errorf("replica b, 1s after Update on a: got access token %q, want the refreshed one", got.AccessToken)
	}
}

// TestCacheFailsSafeWhenRedisGoesAway: with the link gone the cache stops
// answering, and after Redis comes back (empty) nothing stale is served.
func TestCacheFailsSafeWhenRedisGoesAway(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	a, b, clk := replicas(t, srv)
	s, err := a.Create(ctx, identity(), "")
	if err != nil {
		t.Fatal(err)
	}
	waitTrusted(t, b)
	if _, err := b.Get(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	clk.Advance(time.Second)
	if got, err := b.Get(ctx, s.ID); !errors.Is(err, ErrUnavailable) {
		t.Errorf("1s after Redis stopped: got session %v, error %v; want ErrUnavailable, not a cached answer", got != nil, err)
	}
	srv.Restart() // empty: every session is gone, and no message said so
	waitTrusted(t, b)
	if got, err := b.Get(ctx, s.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Redis came back empty: got session %v, error %v; want ErrNotFound", got != nil, err)
	}
}

func TestNewManagerRejectsNegativeCacheTTL(t *testing.T) {
	mem := NewMemory(MemoryOptions{})
	defer mem.Close()
	if _, err := NewManager(ManagerOptions{Store: mem, CacheTTL: -time.Second}); err == nil {
		t.Error("NewManager with CacheTTL -1s: got no error")
	}
}
