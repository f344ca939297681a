package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socialgate/socialgate/session/redistest"
)

// failoverTimeout bounds a Sentinel failover: down after 1s, then the
// election and the promotion, usually done in 2–5s.
const failoverTimeout = 30 * time.Second

func newSentinelStore(t testing.TB, sen *redistest.Sentinel, prefix string) *Redis {
	t.Helper()
	r, err := NewRedis(RedisOptions{
		Addrs:      sen.SentinelAddrs,
		MasterName: sen.MasterName,
		Secret:     testSecret,
		KeyPrefix:  prefix,
	})
	if err != nil {
		t.Fatalf("NewRedis: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRedisSentinelContract(t *testing.T) {
	sen := redistest.StartSentinel(t)
	var n atomic.Int64
	testStore(t, func(t *testing.T, _ func() time.Time) Store {
		// One deployment, a prefix per subtest: DeleteAll must stay inside it.
		return wallRedis{newSentinelStore(t, sen, fmt.Sprintf("t%d:", n.Add(1)))}
	})
}

// waitFor polls f until it returns nil, failing the test with what and
// f's last error after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRedisSentinelFailover kills the master under a live store: while the
// sentinels promote the replica the store answers ErrUnavailable (never
// ErrNotFound, which would sign users out), and afterwards the same store
// object finds the new master with every session intact.
func TestRedisSentinelFailover(t *testing.T) {
	ctx := context.Background()
	sen := redistest.StartSentinel(t)
	r := newSentinelStore(t, sen, "")

	const n = 20
	at := time.Now().Truncate(time.Millisecond)
	user := realisticSession("", at)
	saved := make([]*Session, n)
	for i := range saved {
		s := *user
		s.ID = newToken()
		saved[i] = &s
		if err := r.Save(ctx, &s, time.Hour); err != nil {
			t.Fatalf("Save: %v", err)
		}
	}
	// Replication is asynchronous: only what reached the replica survives
	// the master's death, so wait for it (WAIT would only cover writes made
	// on its own pooled connection).
	replica := sen.Replica().Client()
	waitFor(t, 10*time.Second, "sessions on the replica", func() error {
		for _, s := range saved {
			if replica.Exists(ctx, r.sessionKey(s.ID)).Val() != 1 {
				return fmt.Errorf("no %s yet", r.sessionKey(s.ID))
			}
		}
		if got := replica.SCard(ctx, r.userKey(user.User())).Val(); got != n {
			return fmt.Errorf("user index: %d of %d IDs", got, n)
		}
		return nil
	})

	old := sen.Master().Addr
	sen.StopMaster()

	// Requests keep coming while the sentinels elect and promote.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var served, refused atomic.Int64
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			lctx, cancel := context.WithTimeout(ctx, time.Second)
			got, err := r.Load(lctx, saved[0].ID)
			cancel()
			switch {
			case err == nil:
				served.Add(1)
				if d := sessionDiff(got, saved[0]); d != "" {
					t.Errorf("Load during failover: %s", d)
				}
			case errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrNotFound):
				refused.Add(1)
			default:
				t.Errorf("Load during failover: got %v, want the session or ErrUnavailable", err)
			}
		}
	})
	promoted := sen.WaitFailover(failoverTimeout)
	close(stop)
	wg.Wait()
	t.Logf("failover %s → %s; during it %d loads refused, %d served", old, promoted, refused.Load(), served.Load())
	if served.Load()+refused.Load() == 0 {
		t.Error("no load ran during the failover: the check above proved nothing")
	}

	// The same store, not a new one: its client must find the new master
	// through the sentinels on its own.
	start := time.Now()
	waitFor(t, 10*time.Second, "Ping through the store after the failover", func() error { return r.Ping(ctx) })
	t.Logf("store answered %v after the promotion was visible", time.Since(start).Round(time.Millisecond))
	for i, s := range saved {
		got, err := r.Load(ctx, s.ID)
		if err != nil {
			t.Errorf("Load of session %d after failover: %v", i, err)
			continue
		}
		if d := sessionDiff(got, s); d != "" {
			t.Errorf("Load of session %d after failover: %s", i, d)
		}
	}
	if ss, err := r.ListUser(ctx, user.User()); err != nil || len(ss) != n {
		t.Errorf("ListUser after failover: got %d sessions, %v; want %d", len(ss), err, n)
	}
	fresh := realisticSession(newToken(), at)
	if err := r.Save(ctx, fresh, time.Hour); err != nil {
		t.Fatalf("Save after failover: %v", err)
	}
	if got, err := r.Load(ctx, fresh.ID); err != nil || got.Name != "홍길동" {
		t.Errorf("Load of a new session after failover: got %v, %v; want 홍길동", got, err)
	}

	// And the writes went to the promoted node, not somewhere else.
	info, err := r.Client().Info(ctx, "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(promoted)
	if got := infoValue(info, "tcp_port"); got != port {
		t.Errorf("store's server after failover: got port %s, want %s (the promoted replica)", got, port)
	}
	if got := sen.Master().Client().Exists(ctx, r.sessionKey(fresh.ID)).Val(); got != 1 {
		t.Errorf("new session on the promoted master: got %d keys, want 1", got)
	}
}

// TestRedisSentinelOneSentinelDown: with the first sentinel the client
// knows dead, the store still finds the master, and a failover decided by
// the other two (quorum 2) still reaches it.
func TestRedisSentinelOneSentinelDown(t *testing.T) {
	ctx := context.Background()
	sen := redistest.StartSentinel(t)
	sen.StopSentinel(0)
	r := newSentinelStore(t, sen, "")

	s := realisticSession(newToken(), time.Now().Truncate(time.Millisecond))
	if err := r.Save(ctx, s, time.Hour); err != nil {
		t.Fatalf("Save with a sentinel down: %v", err)
	}
	waitFor(t, 10*time.Second, "the session on the replica", func() error {
		if sen.Replica().Client().Exists(ctx, r.sessionKey(s.ID)).Val() != 1 {
			return errors.New("not replicated yet")
		}
		return nil
	})
	sen.StopMaster()
	sen.WaitFailover(failoverTimeout)
	waitFor(t, 10*time.Second, "Load through the store after the failover", func() error {
		got, err := r.Load(ctx, s.ID)
		if err != nil {
			return err
		}
		if d := sessionDiff(got, s); d != "" {
			return errors.New(d)
		}
		return nil
	})
}
