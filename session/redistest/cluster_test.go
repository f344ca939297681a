package redistest

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestStartCluster(t *testing.T) {
	ctx := context.Background()
	cl := StartCluster(t)
	if got := len(cl.Addrs); got != 3 {
		t.Fatalf("Addrs: got %d, want 3", got)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs, DialerRetries: 1})
	defer c.Close()
	for i := range 30 {
		if err := c.Set(ctx, fmt.Sprintf("키-%d", i), "값", 0).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
	}
	// Thirty keys land on every master: the slots are spread.
	for _, n := range cl.Nodes {
		if got := n.Client().DBSize(ctx).Val(); got == 0 {
			t.Errorf("node %s: got 0 keys, want some", n.Addr)
		}
	}
	if err := c.MSet(ctx, "a", "1", "b", "2").Err(); err == nil {
		t.Error("MSET across slots: got nil error, want CROSSSLOT (not a real cluster?)")
	}
}

func TestClusterMoveSlot(t *testing.T) {
	ctx := context.Background()
	cl := StartCluster(t)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs, DialerRetries: 1})
	defer c.Close()
	const key = "세션"
	if err := c.Set(ctx, key, "홍길동", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	slot := int(c.ClusterKeySlot(ctx, key).Val())
	from := cl.Owner(slot)
	to := (from + 1) % len(cl.Nodes)
	old := cl.Nodes[from].Client()

	cl.MoveSlot(slot, to, func() {
		if _, ok := redis.IsAskError(old.Get(ctx, key).Err()); !ok {
			t.Errorf("GET on the old owner mid-migration: got %v, want ASK", old.Get(ctx, key).Err())
		}
	})
	if got := cl.Owner(slot); got != to {
		t.Errorf("Owner after MoveSlot: got %d, want %d", got, to)
	}
	if _, ok := redis.IsMovedError(old.Get(ctx, key).Err()); !ok {
		t.Errorf("GET on the old owner after MoveSlot: got %v, want MOVED", old.Get(ctx, key).Err())
	}
	if got, err := cl.Nodes[to].Client().Get(ctx, key).Result(); err != nil || got != "홍길동" {
		t.Errorf("GET on the new owner: got %q, %v; want %q", got, err, "홍길동")
	}
	// A client that knew the old layout follows MOVED.
	if got, err := c.Get(ctx, key).Result(); err != nil || got != "홍길동" {
		t.Errorf("GET through the cluster client: got %q, %v; want %q", got, err, "홍길동")
	}
}
