package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/socialgate/socialgate/session/redistest"
)

func newClusterStore(t testing.TB, cl *redistest.Cluster, prefix string) *Redis {
	t.Helper()
	r, err := NewRedis(RedisOptions{Addrs: cl.Addrs, Secret: testSecret, KeyPrefix: prefix})
	if err != nil {
		t.Fatalf("NewRedis: %v", err)
	}
	if _, ok := r.Client().(*redis.ClusterClient); !ok {
		t.Fatalf("client: got %T, want *redis.ClusterClient", r.Client())
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestRedisClusterContract runs the contract on a real three-master
// cluster, where a command naming keys of two slots fails with CROSSSLOT.
func TestRedisClusterContract(t *testing.T) {
	cl := redistest.StartCluster(t)
	var n atomic.Int64
	testStore(t, func(t *testing.T, _ func() time.Time) Store {
		return wallRedis{newClusterStore(t, cl, fmt.Sprintf("t%d:", n.Add(1)))}
	})
}

// TestRedisClusterAcrossNodes gives one user sessions on every master, and
// checks that the index (on one node) reaches them all.
func TestRedisClusterAcrossNodes(t *testing.T) {
	ctx := context.Background()
	cl := redistest.StartCluster(t)
	r := newClusterStore(t, cl, "")

	const n = 60
	at := time.Now().Truncate(time.Millisecond)
	user := realisticSession("", at)
	var want []string
	for i := range n {
		s := *user
		s.ID = newToken()
		// Distinct creation times fix ListUser's order.
		s.CreatedAt = at.Add(time.Duration(i) * time.Second)
		want = append(want, s.ID)
		if err := r.Save(ctx, &s, time.Hour); err != nil {
			t.Fatalf("Save: %v", err)
		}
	}
	others := []*Session{realisticSession(newToken(), at), realisticSession(newToken(), at)}
	for _, s := range others {
		if err := r.Save(ctx, s, time.Hour); err != nil {
			t.Fatalf("Save: %v", err)
		}
	}
	// Sixty random IDs on three masters: every master holds some, or the
	// test proves nothing about crossing nodes.
	for _, node := range cl.Nodes {
		if got := node.Client().DBSize(ctx).Val(); got == 0 {
			t.Fatalf("master %s: got 0 keys, want some of the sessions", node.Addr)
		}
	}

	ss, err := r.ListUser(ctx, user.User())
	if err != nil {
		t.Fatalf("ListUser: %v", err)
	}
	if got := ids(ss); !slices.Equal(got, want) {
		t.Errorf("ListUser: got %d sessions, want all %d, oldest first", len(got), len(want))
	}
	for _, s := range ss {
		if s.Name != "홍길동" || s.AccessToken == "" {
			t.Errorf("ListUser session: got Name %q and an access token of %d bytes, want the saved ones", s.Name, len(s.AccessToken))
			break
		}
	}

	// Touch renews the session on one node and the index on another.
	if err := r.Touch(ctx, want[0], at.Add(time.Minute), 2*time.Hour); err != nil {
		t.Errorf("Touch: %v", err)
	}

	if got, err := r.DeleteUser(ctx, user.User()); err != nil || got != n {
		t.Errorf("DeleteUser: got %d, %v; want %d, nil", got, err, n)
	}
	for i, id := range want {
		if _, err := r.Load(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Load of session %d after DeleteUser: got %v, want ErrNotFound", i, err)
		}
	}
	for _, s := range others {
		if _, err := r.Load(ctx, s.ID); err != nil {
			t.Errorf("another user's session after DeleteUser: %v", err)
		}
	}

	// Refill, then DeleteAll must scan every master, not just one.
	for range n {
		s := *user
		s.ID = newToken()
		if err := r.Save(ctx, &s, time.Hour); err != nil {
			t.Fatalf("Save: %v", err)
		}
	}
	if got, err := r.DeleteAll(ctx); err != nil || got != n+len(others) {
		t.Errorf("DeleteAll: got %d, %v; want %d, nil", got, err, n+len(others))
	}
	for _, node := range cl.Nodes {
		if got := node.Client().DBSize(ctx).Val(); got != 0 {
			t.Errorf("master %s after DeleteAll: got %d keys, want 0", node.Addr, got)
		}
	}
}

// TestRedisClusterSlotMigration moves a session's slot to another master
// under a live store: mid-migration the old owner answers ASK, afterwards
// MOVED, and the store (go-redis) follows both with our retry settings.
func TestRedisClusterSlotMigration(t *testing.T) {
	ctx := context.Background()
	cl := redistest.StartCluster(t)
	r := newClusterStore(t, cl, "")
	s := realisticSession(newToken(), time.Now().Truncate(time.Millisecond))
	if err := r.Save(ctx, s, time.Hour); err != nil {
		t.Fatalf("Save: %v", err)
	}
	key := r.sessionKey(s.ID)
	slot := int(r.Client().ClusterKeySlot(ctx, key).Val())
	from := cl.Owner(slot)
	old := cl.Nodes[from].Client()

	load := func(phase string) {
		t.Helper()
		got, err := r.Load(ctx, s.ID)
		if err != nil {
			t.Fatalf("Load %s: %v", phase, err)
		}
		if d := sessionDiff(got, s); d != "" {
			t.Errorf("Load %s: %s", phase, d)
		}
	}
	cl.MoveSlot(slot, (from+1)%len(cl.Nodes), func() {
		if _, ok := redis.IsAskError(old.HGetAll(ctx, key).Err()); !ok {
			t.Fatalf("HGETALL on the old owner mid-migration: got %v, want ASK", old.HGetAll(ctx, key).Err())
		}
		load("mid-migration (ASK)")
		s.Name = "김철수"
		if err := r.Save(ctx, s, time.Hour); err != nil {
			t.Fatalf("Save mid-migration (ASK): %v", err)
		}
		load("after a Save mid-migration")
	})
	if _, ok := redis.IsMovedError(old.HGetAll(ctx, key).Err()); !ok {
		t.Fatalf("HGETALL on the old owner after the move: got %v, want MOVED", old.HGetAll(ctx, key).Err())
	}
	load("after the move (MOVED)")
	if ss, err := r.ListUser(ctx, s.User()); err != nil || len(ss) != 1 || ss[0].Name != "김철수" {
		t.Errorf("ListUser after the move: got %d sessions, %v; want the one saved", len(ss), err)
	}
	if err := r.Touch(ctx, s.ID, time.Now(), 2*time.Hour); err != nil {
		t.Errorf("Touch after the move: %v", err)
	}
	if err := r.Delete(ctx, s.ID); err != nil {
		t.Errorf("Delete after the move: %v", err)
	}
	if _, err := r.Load(ctx, s.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load after Delete: got %v, want ErrNotFound", err)
	}
}
