package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingStore wraps a Store and records the calls the Manager makes.
type countingStore struct {
	Store
	mu       sync.Mutex
	loads    int
	touches  []time.Duration // ttl of each Touch
	saves    []time.Duration // ttl of each Save
	deleted  []string
	failWith error // when set, every call fails with it
	// ignoreTTL makes the inner store keep sessions long past the TTL the
	// Manager asks for, like a store with a lagging clock, so that the
	// Manager's own expiry check is what ends them.
	ignoreTTL bool
}

func (c *countingStore) innerTTL(ttl time.Duration) time.Duration {
	if c.ignoreTTL {
		return 1000 * time.Hour
	}
	return ttl
}

func (c *countingStore) Load(ctx context.Context, id string) (*Session, error) {
	c.mu.Lock()
	c.loads++
	fail := c.failWith
	c.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	return c.Store.Load(ctx, id)
}

func (c *countingStore) Save(ctx context.Context, s *Session, ttl time.Duration) error {
	c.mu.Lock()
	c.saves = append(c.saves, ttl)
	fail := c.failWith
	c.mu.Unlock()
	if fail != nil {
		return fail
	}
	return c.Store.Save(ctx, s, c.innerTTL(ttl))
}

func (c *countingStore) Touch(ctx context.Context, id string, seen time.Time, ttl time.Duration) error {
	c.mu.Lock()
	c.touches = append(c.touches, ttl)
	c.mu.Unlock()
	return c.Store.Touch(ctx, id, seen, c.innerTTL(ttl))
}

func (c *countingStore) Delete(ctx context.Context, id string) error {
	c.mu.Lock()
	c.deleted = append(c.deleted, id)
	c.mu.Unlock()
	return c.Store.Delete(ctx, id)
}

func newTestManager(t *testing.T, o ManagerOptions) (*Manager, *countingStore, *fakeClock) {
	t.Helper()
	clk := newClock()
	mem := NewMemory(MemoryOptions{Now: clk.Now})
	t.Cleanup(func() { mem.Close() })
	cs := &countingStore{Store: mem}
	o.Store, o.Now = cs, clk.Now
	m, err := NewManager(o)
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	return m, cs, clk
}

func identity() *Session {
	return &Session{Provider: "naver", Subject: "abc", Name: "김철수", Email: "kim@naver.com", AccessToken: "at"}
}

func TestManagerCreate(t *testing.T) {
	ctx := context.Background()
	m, cs, clk := newTestManager(t, ManagerOptions{})
	in := identity()
	old, err := m.Create(ctx, in, "")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !validID(old.ID) || !validID(old.CSRF) || old.ID == old.CSRF {
		t.Errorf("got ID %q CSRF %q, want two distinct 43-character random tokens", old.ID, old.CSRF)
	}
	if !old.CreatedAt.Equal(clk.Now()) || !old.LastSeen.Equal(clk.Now()) {
		t.Errorf("got CreatedAt %v LastSeen %v, want both %v", old.CreatedAt, old.LastSeen, clk.Now())
	}
	if in.ID != "" || in.CSRF != "" {
		t.Errorf("Create changed its argument: %+v", in)
	}
	if got, want := cs.saves[0], 24*time.Hour; got != want {
		t.Errorf("Save ttl: got %v, want min(idle, lifetime) = %v", got, want)
	}

	// Signing in again from the same browser: new ID, the old one is gone.
	next, err := m.Create(ctx, in, old.ID)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if next.ID == old.ID {
		t.Fatal("Create reused the old ID, want a new one (session fixation)")
	}
	if _, err := m.Get(ctx, old.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get old ID: got %v, want ErrNotFound", err)
	}
	if got, err := m.Get(ctx, next.ID); err != nil || got.Name != "김철수" {
		t.Errorf("Get new ID: got %v, %v; want the session", got, err)
	}

	if _, err := m.Create(ctx, &Session{Provider: "kakao"}, ""); err == nil {
		t.Error("Create without a subject: got nil error, want one")
	}

	// A malformed old ID (from a forged or stale cookie) never reaches the store.
	cs.deleted = nil
	if _, err := m.Create(ctx, in, "../../etc"); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if len(cs.deleted) != 0 {
		t.Errorf("Delete called with %q, want no call for a malformed old ID", cs.deleted)
	}
}

func TestManagerLifetimeShorterThanIdle(t *testing.T) {
	m, cs, _ := newTestManager(t, ManagerOptions{Lifetime: time.Hour, IdleTimeout: 2 * time.Hour, TouchInterval: time.Minute})
	if _, err := m.Create(context.Background(), identity(), ""); err != nil {
		t.Fatal(err)
	}
	if got, want := cs.saves[0], time.Hour; got != want {
		t.Errorf("Save ttl: got %v, want the lifetime %v", got, want)
	}
}

func TestManagerExpiry(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		steps []time.Duration // advance, then Get; all but the last must succeed
	}{
		{"idle just before", []time.Duration{24*time.Hour - time.Second}},
		{"idle", []time.Duration{24 * time.Hour}},
		{"kept alive by use", []time.Duration{23 * time.Hour, 23 * time.Hour, 23 * time.Hour}},
		{"absolute despite use", []time.Duration{23 * time.Hour, 23 * time.Hour, 23 * time.Hour, 23 * time.Hour, 23 * time.Hour, 23 * time.Hour, 23 * time.Hour, 10 * time.Hour}},
	} {
		for _, ignoreTTL := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/ignoreTTL=%v", tc.name, ignoreTTL), func(t *testing.T) {
				m, cs, clk := newTestManager(t, ManagerOptions{})
				cs.ignoreTTL = ignoreTTL
				s, err := m.Create(ctx, identity(), "")
				if err != nil {
					t.Fatal(err)
				}
				var elapsed time.Duration
				for i, d := range tc.steps {
					clk.Advance(d)
					elapsed += d
					_, err := m.Get(ctx, s.ID)
					last := i == len(tc.steps)-1
					wantGone := last && (elapsed >= 168*time.Hour || d >= 24*time.Hour)
					if wantGone && !errors.Is(err, ErrNotFound) {
						t.Fatalf("Get after %v: got %v, want ErrNotFound", elapsed, err)
					}
					if !wantGone && err != nil {
						t.Fatalf("Get after %v: %v", elapsed, err)
					}
					if wantGone && ignoreTTL && !strings.Contains(fmt.Sprint(cs.deleted), s.ID) {
						t.Errorf("expired session not deleted from the store")
					}
				}
			})
		}
	}
}

func TestManagerTouchThrottle(t *testing.T) {
	ctx := context.Background()
	m, cs, clk := newTestManager(t, ManagerOptions{})
	s, err := m.Create(ctx, identity(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		advance     time.Duration
		wantTouches int
	}{
		{0, 0},
		{30 * time.Second, 0},
		{29 * time.Second, 0},
		{time.Second, 1}, // a minute since LastSeen
		{0, 1},
		{59 * time.Second, 1},
		{time.Second, 2},
	} {
		clk.Advance(tc.advance)
		got, err := m.Get(ctx, s.ID)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if n := len(cs.touches); n != tc.wantTouches {
			t.Fatalf("after +%v: got %d touches, want %d", tc.advance, n, tc.wantTouches)
		}
		if tc.wantTouches > 0 && got.LastSeen.Before(clk.Now().Add(-time.Minute)) {
			t.Errorf("LastSeen %v, want within a minute of %v", got.LastSeen, clk.Now())
		}
	}
	if got, want := cs.touches[0], 24*time.Hour; got != want {
		t.Errorf("Touch ttl: got %v, want the idle timeout %v", got, want)
	}
}

func TestManagerTouchTTLNearLifetime(t *testing.T) {
	ctx := context.Background()
	m, cs, clk := newTestManager(t, ManagerOptions{})
	s, err := m.Create(ctx, identity(), "")
	if err != nil {
		t.Fatal(err)
	}
	for range 7 {
		clk.Advance(23 * time.Hour)
		if _, err := m.Get(ctx, s.ID); err != nil {
			t.Fatalf("Get: %v", err)
		}
	}
	// 161h in: 7h of lifetime left, less than the idle timeout.
	if got, want := cs.touches[len(cs.touches)-1], 7*time.Hour; got != want {
		t.Errorf("Touch ttl: got %v, want the remaining lifetime %v", got, want)
	}
}

func TestManagerMalformedIDs(t *testing.T) {
	ctx := context.Background()
	m, cs, _ := newTestManager(t, ManagerOptions{})
	for _, id := range []string{
		"", "short", strings.Repeat("a", 42), strings.Repeat("a", 44), strings.Repeat("a", 42) + "/",
		strings.Repeat("a", 42) + "=", strings.Repeat("한", 14) + "a", strings.Repeat("a", 42) + "\x00", "../../../../../../../../../../../etc/passwd",
	} {
		if _, err := m.Get(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): got %v, want ErrNotFound", id, err)
		}
		if err := m.End(ctx, id); err != nil {
			t.Errorf("End(%q): got %v, want nil", id, err)
		}
		if err := m.Update(ctx, &Session{ID: id}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Update(%q): got %v, want ErrNotFound", id, err)
		}
	}
	if cs.loads != 0 || len(cs.deleted) != 0 || len(cs.saves) != 0 {
		t.Errorf("store saw %d loads, %d deletes, %d saves; want none", cs.loads, len(cs.deleted), len(cs.saves))
	}
}

func TestManagerStoreDown(t *testing.T) {
	ctx := context.Background()
	m, cs, _ := newTestManager(t, ManagerOptions{})
	cs.failWith = fmt.Errorf("redis load: %w: connection refused", ErrUnavailable)
	if _, err := m.Get(ctx, strings.Repeat("a", 43)); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
		t.Errorf("Get: got %v, want ErrUnavailable", err)
	}
	if _, err := m.Create(ctx, identity(), ""); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Create: got %v, want ErrUnavailable", err)
	}
}

func TestManagerUpdate(t *testing.T) {
	ctx := context.Background()
	m, cs, clk := newTestManager(t, ManagerOptions{})
	s, err := m.Create(ctx, identity(), "")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Hour)
	s.AccessToken = "refreshed"
	if err := m.Update(ctx, s); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got, want := cs.saves[len(cs.saves)-1], 14*time.Hour; got != want {
		t.Errorf("Update ttl: got %v, want what idle leaves, %v", got, want)
	}
	if got, _ := m.Get(ctx, s.ID); got == nil || got.AccessToken != "refreshed" {
		t.Errorf("Get after Update: got %+v, want the refreshed token", got)
	}
	clk.Advance(25 * time.Hour)
	if err := m.Update(ctx, s); !errors.Is(err, ErrNotFound) {
		t.Errorf("Update of an idle-expired session: got %v, want ErrNotFound", err)
	}
}

func TestManagerEndUser(t *testing.T) {
	ctx := context.Background()
	m, _, _ := newTestManager(t, ManagerOptions{})
	var ids []string
	for range 3 {
		s, err := m.Create(ctx, identity(), "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	if n, err := m.EndUser(ctx, "naver:abc"); err != nil || n != 3 {
		t.Errorf("EndUser: got %d, %v; want 3, nil", n, err)
	}
	for _, id := range ids {
		if _, err := m.Get(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get after EndUser: got %v, want ErrNotFound", err)
		}
	}
	if err := m.End(ctx, ids[0]); err != nil {
		t.Errorf("End of an ended session: got %v, want nil", err)
	}
}

func TestNewManagerChecks(t *testing.T) {
	mem := NewMemory(MemoryOptions{})
	defer mem.Close()
	for _, tc := range []struct {
		name    string
		o       ManagerOptions
		wantErr bool
	}{
		{"defaults", ManagerOptions{Store: mem}, false},
		{"no store", ManagerOptions{}, true},
		{"touch not shorter than idle", ManagerOptions{Store: mem, IdleTimeout: time.Minute, TouchInterval: time.Minute}, true},
		{"negative lifetime", ManagerOptions{Store: mem, Lifetime: -time.Hour}, true},
		{"negative login budget", ManagerOptions{Store: mem, PendingLoginBytes: -1}, true},
		{"negative client login budget", ManagerOptions{Store: mem, ClientPendingLoginBytes: -1}, true},
	} {
		_, err := NewManager(tc.o)
		if got := err != nil; got != tc.wantErr {
			t.Errorf("%s: got error %v, want error %v", tc.name, err, tc.wantErr)
		}
	}
	m, _ := NewManager(ManagerOptions{Store: mem})
	if m.loginBytes != 64<<20 || m.clientLoginBytes != 4<<20 {
		t.Errorf("default login budgets: got %d and %d, want 64 MiB and 4 MiB", m.loginBytes, m.clientLoginBytes)
	}
}
