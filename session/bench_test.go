package session

import (
	"context"
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
