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
// no Touch (LastSeen is fresh), as on most requests.
func BenchmarkManagerGet(b *testing.B) {
	stores := []struct {
		name string
		new  func(b *testing.B) Store
	}{
		{"memory", func(b *testing.B) Store {
			m := NewMemory(MemoryOptions{})
			b.Cleanup(func() { m.Close() })
			return m
		}},
		{"miniredis", func(b *testing.B) Store {
			r, _ := newMiniRedis(b, nil)
			return r
		}},
		{"redis-server", func(b *testing.B) Store {
			r, err := NewRedis(RedisOptions{Addrs: []string{redistest.Start(b).Addr}, Secret: testSecret})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { r.Close() })
			return r
		}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			ctx := context.Background()
			m, err := NewManager(ManagerOptions{Store: st.new(b), TouchInterval: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			s, err := m.Create(ctx, sampleSession("", "3456789012", time.Now()), "")
			if err != nil {
				b.Fatal(err)
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
