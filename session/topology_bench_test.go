package session

import (
	"context"
	"testing"
	"time"

	"github.com/socialgate/socialgate/session/redistest"
)

// BenchmarkStoreTopologies measures, with a realistic Google session
// (about 1.6 KB sealed), the two store calls a gateway makes: Save at
// sign-in and Manager.Get (one Load, LastSeen fresh so no Touch) on every
// request. Each topology starts once and serves both.
//
//	go test -run '^$' -bench StoreTopologies -benchmem ./session/
func BenchmarkStoreTopologies(b *testing.B) {
	stores := []struct {
		name string
		new  func(b *testing.B) Store
	}{
		{"memory", func(b *testing.B) Store {
			m := NewMemory(MemoryOptions{})
			b.Cleanup(func() { m.Close() })
			return m
		}},
		{"standalone", func(b *testing.B) Store {
			return benchRedis(b, RedisOptions{Addrs: []string{redistest.Start(b).Addr}})
		}},
		{"sentinel", func(b *testing.B) Store {
			sen := redistest.StartSentinel(b)
			return benchRedis(b, RedisOptions{Addrs: sen.SentinelAddrs, MasterName: sen.MasterName})
		}},
		{"cluster", func(b *testing.B) Store {
			return benchRedis(b, RedisOptions{Addrs: redistest.StartCluster(b).Addrs})
		}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			ctx := context.Background()
			store := st.new(b)
			m, err := NewManager(ManagerOptions{Store: store, TouchInterval: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			b.Run("Save", func(b *testing.B) {
				s := realisticSession(newToken(), time.Now())
				b.ReportAllocs()
				for b.Loop() {
					if err := store.Save(ctx, s, time.Hour); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Get", func(b *testing.B) {
				s, err := m.Create(ctx, realisticSession("", time.Now()), "")
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
		})
	}
}

func benchRedis(b *testing.B, o RedisOptions) *Redis {
	b.Helper()
	o.Secret = testSecret
	r, err := NewRedis(o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return r
}
