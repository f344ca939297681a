package session

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestMemoryStore(t *testing.T) {
	testStore(t, func(t *testing.T, now func() time.Time) Store {
		m := NewMemory(MemoryOptions{Now: now})
		t.Cleanup(func() { m.Close() })
		return m
	})
}

func TestMemorySweep(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m := NewMemory(MemoryOptions{Now: clk.Now, SweepInterval: time.Hour})
	defer m.Close()

	short := sampleSession("short", "1", clk.Now())
	long := sampleSession("long", "1", clk.Now())
	if err := m.Save(ctx, short, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(ctx, long, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := m.PutLoginState(ctx, "old", encLogin(&LoginState{Provider: "p"}), quota(clk, time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := m.PutLoginState(ctx, "new", encLogin(&LoginState{Provider: "p"}), quota(clk, time.Hour)); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute)
	m.sweep()

	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions["short"]; ok {
		t.Error("expired session still held after sweep")
	}
	if _, ok := m.sessions["long"]; !ok {
		t.Error("live session swept")
	}
	if got := len(m.users["kakao:1"]); got != 1 {
		t.Errorf("user index: got %d IDs, want 1", got)
	}
	if _, ok := m.states["old"]; ok {
		t.Error("expired login state still held after sweep")
	}
	if got, want := m.order.Len(), 1; got != want {
		t.Errorf("login states: got %d, want %d", got, want)
	}
	if _, cost := loginCost("new", encLogin(&LoginState{Provider: "p"})); m.stateBytes > cost {
		t.Errorf("after sweep: %d bytes charged, want at most the one live state's %d", m.stateBytes, cost)
	}
}

func TestMemoryResaveMovesIndex(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(MemoryOptions{})
	defer m.Close()
	s := sampleSession("id", "1", time.Now())
	if err := m.Save(ctx, s, time.Hour); err != nil {
		t.Fatal(err)
	}
	s.Subject = "2"
	if err := m.Save(ctx, s, time.Hour); err != nil {
		t.Fatal(err)
	}
	if ss, _ := m.ListUser(ctx, "kakao:1"); len(ss) != 0 {
		t.Errorf("old user: got %d sessions, want 0", len(ss))
	}
	if ss, _ := m.ListUser(ctx, "kakao:2"); len(ss) != 1 {
		t.Errorf("new user: got %d sessions, want 1", len(ss))
	}
}

func TestMemoryCloseTwice(t *testing.T) {
	m := NewMemory(MemoryOptions{SweepInterval: time.Millisecond})
	for i := range 2 {
		if err := m.Close(); err != nil {
			t.Errorf("Close %d: %v", i, err)
		}
	}
	// A closed memory store still answers: only the janitor stopped.
	if _, err := m.Load(context.Background(), "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load after Close: got %v, want ErrNotFound", err)
	}
}
