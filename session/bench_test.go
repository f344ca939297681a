package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/socialgate/socialgate/session/redistest"
)

// BenchmarkManagerGet measures the per-request session lookup: one Load,
// no Touch (LastSeen is fresh), as on most requests; with a cache TTL, a
// cache hit and no Load.
func BenchmarkManagerGet(b *testing.B) {
	stores := []struct {
		name  string
		cache time.Duration
		new   func(b *testing.B) Store
	}{
		{"memory", 0, func(b *testing.B) Store {
			m := NewMemory(MemoryOptions{})
			b.Cleanup(func() { m.Close() })
			return m
		}},
		{"miniredis", 0, func(b *testing.B) Store {
			r, _ := newMiniRedis(b, nil)
			return r
		}},
		{"redis-server", 0, newBenchRedis},
		{"redis-server-cached", time.Minute, newBenchRedis},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			ctx := context.Background()
			m, err := NewManager(ManagerOptions{Store: st.new(b), TouchInterval: time.Hour, CacheTTL: st.cache})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { m.Close() })
			s, err := m.Create(ctx, sampleSession("", "3456789012", time.Now()), "")
			if err != nil {
				b.Fatal(err)
			}
			for deadline := time.Now().Add(10 * time.Second); m.cache != nil && !m.cache.trusted(); {
				if time.Now().After(deadline) {
					b.Fatal("the invalidation link never came up")
				}
				time.Sleep(10 * time.Millisecond)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Get(ctx, s.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func newBenchRedis(b *testing.B) Store {
	r, err := NewRedis(RedisOptions{Addrs: []string{redistest.Start(b).Addr}, Secret: testSecret})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return r
}

// BenchmarkReadSession measures the session cookie check of every request:
// find the cookie among the app's own and verify its HMAC.
func BenchmarkReadSession(b *testing.B) {
	c, err := NewCookies(CookieOptions{Secret: testSecret})
	if err != nil {
		b.Fatal(err)
	}
	id := newToken()
	rec := httptest.NewRecorder()
	c.WriteSession(rec, id)
	ck := rec.Result().Cookies()[0]
	r := httptest.NewRequest(http.MethodGet, "/app/", nil)
	r.Header.Set("Cookie", "JSESSIONID=0123456789ABCDEF; "+ck.Name+"="+ck.Value+"; theme=dark")
	if got, ok := c.ReadSession(r); !ok || got != id {
		b.Fatalf("ReadSession = %q, %v; want the ID, true", got, ok)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.ReadSession(r); !ok {
			b.Fatal("ReadSession failed")
		}
	}
}
