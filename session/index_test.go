package session

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestManagerUserIndex(t *testing.T) {
	ctx := context.Background()
	m, _, clk := newTestManager(t, ManagerOptions{})
	phone := identity()
	phone.UserAgent = "Mozilla/5.0 (iPhone) " + strings.Repeat("가", 300) // 900+ bytes
	phone.IP = "203.0.113.7"
	a, err := m.Create(ctx, phone, "")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	b, err := m.Create(ctx, identity(), "")
	if err != nil {
		t.Fatal(err)
	}
	other, err := m.Create(ctx, &Session{Provider: "kakao", Subject: "1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	list, err := m.UserSessions(ctx, "naver:abc")
	if err != nil || !slices.Equal(ids(list), []string{a.ID, b.ID}) {
		t.Fatalf("UserSessions: got %v, %v; want both, oldest first", ids(list), err)
	}
	if ua := list[0].UserAgent; len(ua) > maxUserAgent || !strings.HasPrefix(ua, "Mozilla/5.0 (iPhone) 가") || !utf8Valid(ua) {
		t.Errorf("UserAgent: %d bytes %q, want the start, cut on a rune boundary to %d", len(ua), ua[:30], maxUserAgent)
	}
	if list[0].IP != "203.0.113.7" || !list[0].CreatedAt.Equal(a.CreatedAt) {
		t.Errorf("session: IP %q created %v; want what Create recorded", list[0].IP, list[0].CreatedAt)
	}
	// last_seen follows the existing touch.
	clk.Advance(2 * time.Minute)
	if _, err := m.Get(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	list, _ = m.UserSessions(ctx, "naver:abc")
	if !list[0].LastSeen.Equal(clk.Now()) {
		t.Errorf("LastSeen after a request: %v, want %v", list[0].LastSeen, clk.Now())
	}
	if err := m.EndUserSession(ctx, "naver:abc", other.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("ending another user's session: got %v, want ErrNotFound", err)
	}
	if _, err := m.Get(ctx, other.ID); err != nil {
		t.Errorf("the other user's session after the refused end: %v", err)
	}
	if err := m.EndUserSession(ctx, "naver:abc", a.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := m.UserSessions(ctx, "naver:abc"); !slices.Equal(ids(list), []string{b.ID}) {
		t.Errorf("after ending one: got %v, want [%s]", ids(list), b.ID)
	}
	users, err := m.Users(ctx)
	if err != nil || !slices.Equal(users, []string{"kakao:1", "naver:abc"}) {
		t.Errorf("Users: got %v, %v", users, err)
	}
}

func TestManagerProviderSessions(t *testing.T) {
	ctx := context.Background()
	m, _, _ := newTestManager(t, ManagerOptions{CacheTTL: time.Hour})
	in := identity()
	in.SID = "op-session-1"
	a, _ := m.Create(ctx, in, "")
	b, _ := m.Create(ctx, in, "")
	c, _ := m.Create(ctx, identity(), "") // same user, no sid
	for _, s := range []*Session{a, b, c} {
		if _, err := m.Get(ctx, s.ID); err != nil { // cached
			t.Fatal(err)
		}
	}
	if n, err := m.EndProviderSessions(ctx, "google", "op-session-1"); err != nil || n != 0 {
		t.Errorf("another provider's sid: ended %d, %v; want 0", n, err)
	}
	if n, err := m.EndProviderSessions(ctx, "naver", "op-session-1"); err != nil || n != 2 {
		t.Errorf("EndProviderSessions: ended %d, %v; want 2", n, err)
	}
	for _, s := range []*Session{a, b} {
		if _, err := m.Get(ctx, s.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("session with the sid, after the logout: got %v, want ErrNotFound (cache dropped too)", err)
		}
	}
	if _, err := m.Get(ctx, c.ID); err != nil {
		t.Errorf("the user's session without the sid: %v", err)
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
