package redistest

import (
	"context"
	"testing"
	"time"
)

func TestStartStopRestart(t *testing.T) {
	ctx := context.Background()
	s := Start(t)
	c := s.Client()
	if err := c.Set(ctx, "k", "홍길동", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "홍길동" {
		t.Fatalf("GET: got %q, %v; want %q", got, err, "홍길동")
	}

	addr := s.Addr
	s.Stop()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING answered after Stop")
	}
	s.Stop() // a second Stop is harmless

	s.Restart()
	if s.Addr != addr {
		t.Errorf("Addr after Restart: got %q, want %q", s.Addr, addr)
	}
	// The same client reconnects; the data is gone (no persistence).
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("PING still failing 10s after Restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := c.Exists(ctx, "k").Val(); n != 0 {
		t.Errorf("EXISTS after Restart: got %d, want 0 (persistence off)", n)
	}
}

func TestStartArgs(t *testing.T) {
	s := Start(t, "--maxmemory", "1mb")
	got, err := s.Client().ConfigGet(context.Background(), "maxmemory").Result()
	if err != nil {
		t.Fatalf("CONFIG GET: %v", err)
	}
	if got["maxmemory"] != "1048576" {
		t.Errorf("maxmemory: got %q, want %q", got["maxmemory"], "1048576")
	}
}
