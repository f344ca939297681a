package redistest

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestStartSentinel(t *testing.T) {
	ctx := context.Background()
	s := StartSentinel(t)
	if got := len(s.SentinelAddrs); got != 3 {
		t.Fatalf("SentinelAddrs: got %d, want 3", got)
	}
	old := s.Master()
	if err := checkRole(old.Addr, "master"); err != nil {
		t.Fatal(err)
	}
	if err := checkRole(s.Replica().Addr, "slave"); err != nil {
		t.Fatal(err)
	}

	c := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    s.MasterName,
		SentinelAddrs: s.SentinelAddrs,
		DialerRetries: 1,
	})
	defer c.Close()
	if err := c.Set(ctx, "k", "홍길동", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	// The replica has the write before the master dies.
	if err := poll(10*time.Second, func() error { return s.Replica().Client().Get(ctx, "k").Err() }); err != nil {
		t.Fatalf("GET on the replica: %v", err)
	}

	s.StopMaster()
	addr := s.WaitFailover(30 * time.Second)
	if addr == old.Addr {
		t.Fatalf("WaitFailover: got the old master %s", addr)
	}
	if got := s.Master().Addr; got != addr {
		t.Errorf("Master after failover: got %s, want %s", got, addr)
	}
	var got string
	err := poll(10*time.Second, func() error {
		var err error
		got, err = c.Get(ctx, "k").Result()
		return err
	})
	if err != nil || got != "홍길동" {
		t.Errorf("GET after failover: got %q, %v; want %q", got, err, "홍길동")
	}
}
