package session

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/socialgate/socialgate/session/redistest"
)

// locker is what the proxy's refresh needs of a store.
type locker interface {
	TryLock(ctx context.Context, key string, ttl time.Duration) (bool, error)
	Unlock(ctx context.Context, key string) error
}

// lockEnv is one backend under test: two lockers that share the locks (two
// replicas on one Redis; for memory, the same store twice) and a way to
// let time pass for lock TTLs.
type lockEnv struct {
	a, b locker
	// expire lets a lock taken with ttl run out; it may poll.
	expire func(t *testing.T, l locker, key string, ttl time.Duration)
}

// testLocker is the contract every locking store meets.
func testLocker(t *testing.T, newEnv func(t *testing.T) lockEnv) {
	ctx := context.Background()

	t.Run("exclusive until unlock", func(t *testing.T) {
		e := newEnv(t)
		if ok, err := e.a.TryLock(ctx, "refresh:1", time.Minute); !ok || err != nil {
			t.Fatalf("first TryLock: got %v, %v, want true, nil", ok, err)
		}
		for _, l := range []locker{e.a, e.b} {
			if ok, err := l.TryLock(ctx, "refresh:1", time.Minute); ok || err != nil {
				t.Errorf("TryLock while held: got %v, %v, want false, nil", ok, err)
			}
		}
		// Another key is independent.
		if ok, err := e.b.TryLock(ctx, "refresh:2", time.Minute); !ok || err != nil {
			t.Errorf("TryLock of another key: got %v, %v, want true, nil", ok, err)
		}
		if err := e.a.Unlock(ctx, "refresh:1"); err != nil {
			t.Fatalf("Unlock: %v", err)
		}
		if ok, err := e.b.TryLock(ctx, "refresh:1", time.Minute); !ok || err != nil {
			t.Errorf("TryLock after Unlock: got %v, %v, want true, nil", ok, err)
		}
	})

	t.Run("expires after ttl", func(t *testing.T) {
		e := newEnv(t)
		const ttl = 50 * time.Millisecond
		if ok, err := e.a.TryLock(ctx, "refresh:ttl", ttl); !ok || err != nil {
			t.Fatalf("TryLock: got %v, %v, want true, nil", ok, err)
		}
		e.expire(t, e.b, "refresh:ttl", ttl)
	})

	t.Run("late unlock leaves the next holder alone", func(t *testing.T) {
		e := newEnv(t)
		const ttl = 50 * time.Millisecond
		if ok, _ := e.a.TryLock(ctx, "refresh:late", ttl); !ok {
			t.Fatal("TryLock failed")
		}
		e.expire(t, e.b, "refresh:late", ttl) // b holds it now
		if err := e.a.Unlock(ctx, "refresh:late"); err != nil {
			t.Fatalf("late Unlock: %v", err)
		}
		if _, same := e.a.(*Memory); same {
			return // one store: it cannot tell its own callers apart
		}
		if ok, err := e.a.TryLock(ctx, "refresh:late", time.Minute); ok || err != nil {
			t.Errorf("TryLock after a late Unlock: got %v, %v, want false, nil (b still holds it)", ok, err)
		}
	})

	t.Run("unlock without lock", func(t *testing.T) {
		e := newEnv(t)
		if err := e.a.Unlock(ctx, "never-locked"); err != nil {
			t.Errorf("Unlock of a free key: got %v, want nil", err)
		}
	})

	t.Run("one winner among many", func(t *testing.T) {
		e := newEnv(t)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 16 {
			l := e.a
			if i%2 == 1 {
				l = e.b
			}
			wg.Go(func() {
				if ok, err := l.TryLock(ctx, "refresh:race", time.Minute); err != nil {
					t.Errorf("TryLock: %v", err)
				} else if ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if got := wins.Load(); got != 1 {
			t.Errorf("winners: got %d, want 1", got)
		}
	})

	t.Run("bad arguments", func(t *testing.T) {
		e := newEnv(t)
		for _, tc := range []struct {
			key string
			ttl time.Duration
		}{{"", time.Minute}, {"k", 0}, {"k", -time.Second}, {"k", time.Microsecond}} {
			if ok, err := e.a.TryLock(ctx, tc.key, tc.ttl); ok || err == nil {
				t.Errorf("TryLock(%q, %v): got %v, %v, want false and an error", tc.key, tc.ttl, ok, err)
			}
		}
	})
}

func TestMemoryLock(t *testing.T) {
	testLocker(t, func(t *testing.T) lockEnv {
		clock := newClock()
		m := NewMemory(MemoryOptions{Now: clock.Now})
		t.Cleanup(func() { m.Close() })
		return lockEnv{a: m, b: m, expire: func(t *testing.T, l locker, key string, ttl time.Duration) {
			t.Helper()
			clock.Advance(ttl - time.Millisecond)
			if ok, _ := l.TryLock(context.Background(), key, time.Minute); ok {
				t.Fatalf("lock free %v before its ttl", time.Millisecond)
			}
			clock.Advance(time.Millisecond)
			if ok, err := l.TryLock(context.Background(), key, time.Minute); !ok || err != nil {
				t.Fatalf("TryLock at ttl: got %v, %v, want true, nil", ok, err)
			}
		}}
	})
}

// pollLock retries TryLock until it succeeds: the lock's TTL runs on the
// Redis server's clock. The deadline is generous; only a lock that never
// expires fails.
func pollLock(t *testing.T, l locker, key string, _ time.Duration) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := l.TryLock(context.Background(), key, time.Minute)
		if err != nil {
			t.Fatalf("TryLock: %v", err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lock %q still held 10s after its ttl", key)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRedisLockMiniredis(t *testing.T) {
	testLocker(t, func(t *testing.T) lockEnv {
		clock := newClock()
		a, c := newMiniRedis(t, clock.Now)
		b := newRedisOn(t, c, testSecret)
		return lockEnv{a: a, b: b, expire: func(t *testing.T, l locker, key string, ttl time.Duration) {
			t.Helper()
			clock.Advance(ttl)
			if ok, err := l.TryLock(context.Background(), key, time.Minute); !ok || err != nil {
				t.Fatalf("TryLock after ttl: got %v, %v, want true, nil", ok, err)
			}
		}}
	})
}

func TestRedisLockReal(t *testing.T) {
	srv := redistest.Start(t)
	var n atomic.Int64
	testLocker(t, func(t *testing.T) lockEnv {
		// Two stores, as on two replicas; a prefix per subtest.
		prefix := "lk" + string(rune('a'+n.Add(1))) + ":"
		var ls [2]locker
		for i := range ls {
			r, err := NewRedis(RedisOptions{Addrs: []string{srv.Addr}, Secret: testSecret, KeyPrefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			ls[i] = r
		}
		return lockEnv{a: ls[0], b: ls[1], expire: pollLock}
	})
}

func TestRedisLockKeyAndValue(t *testing.T) {
	ctx := context.Background()
	backends(t, func(t *testing.T, c redis.UniversalClient) {
		r, err := NewRedis(RedisOptions{Client: c, Secret: testSecret, KeyPrefix: "pfx:"})
		if err != nil {
			t.Fatal(err)
		}
		const sid = "session-id-never-in-a-lock-value"
		if ok, err := r.TryLock(ctx, "refresh:"+sid, time.Minute); !ok || err != nil {
			t.Fatalf("TryLock: got %v, %v", ok, err)
		}
		keys, err := c.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 || keys[0] != "pfx:lock:refresh:"+sid {
			t.Fatalf("keys: got %q, want [pfx:lock:refresh:%s]", keys, sid)
		}
		ttl, err := c.PTTL(ctx, keys[0]).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 || ttl > time.Minute {
			t.Errorf("lock TTL: got %v, want in (0, 1m]", ttl)
		}
		val, _ := c.Get(ctx, keys[0]).Result()
		if len(val) < 22 || strings.Contains(val, sid) {
			t.Errorf("lock value %q: want a random token of at least 128 bits", val)
		}
		if err := r.Unlock(ctx, "refresh:"+sid); err != nil {
			t.Fatal(err)
		}
		if n, _ := c.Exists(ctx, keys[0]).Result(); n != 0 {
			t.Errorf("lock key still there after Unlock")
		}
	})
}

func TestRedisLockOutage(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	r, err := NewRedis(RedisOptions{Addrs: []string{srv.Addr}, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if ok, err := r.TryLock(ctx, "held", time.Minute); !ok || err != nil {
		t.Fatalf("TryLock: got %v, %v", ok, err)
	}
	srv.Stop()
	if ok, err := r.TryLock(ctx, "other", time.Minute); ok || !errors.Is(err, ErrUnavailable) {
		t.Errorf("TryLock while down: got %v, %v, want false, ErrUnavailable", ok, err)
	}
	if err := r.Unlock(ctx, "held"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Unlock while down: got %v, want ErrUnavailable", err)
	}
}
