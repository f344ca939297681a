package session

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock is a hand-set clock shared by a store and its test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// wallClock marks a store whose expiry follows only the real clock (a real
// redis-server): the suite skips its fake-clock expiry checks, and
// redis_test.go checks real expiry instead.
type wallClock interface{ wallClock() }

// sampleSession is a Kakao user with a Hangul name and every field set.
func sampleSession(id, subject string, at time.Time) *Session {
	return &Session{
		ID:            id,
		Provider:      "kakao",
		Subject:       subject,
		Email:         "hong@example.kr",
		EmailVerified: true,
		Name:          "홍길동",
		Picture:       "https://k.kakaocdn.net/dn/홍길동.jpg",
		AccessToken:   "access-token-" + id,
		RefreshToken:  "refresh-token-" + id,
		IDToken:       "id-token-" + id,
		TokenExpiry:   at.Add(6 * time.Hour),
		CSRF:          "csrf-" + id,
		UserAgent:     "Mozilla/5.0 (Linux; Android 14) KAKAOTALK 10.4.3",
		IP:            "203.0.113.7",
		CreatedAt:     at,
		LastSeen:      at,
	}
}

// sessionDiff describes how got differs from want, or returns "".
func sessionDiff(got, want *Session) string {
	if got == nil || want == nil {
		return fmt.Sprintf("got %v, want %v", got, want)
	}
	g, w := *got, *want
	for _, p := range []struct {
		name string
		a, b time.Time
	}{{"TokenExpiry", g.TokenExpiry, w.TokenExpiry}, {"CreatedAt", g.CreatedAt, w.CreatedAt}, {"LastSeen", g.LastSeen, w.LastSeen}} {
		if !p.a.Equal(p.b) {
			return fmt.Sprintf("%s: got %v, want %v", p.name, p.a, p.b)
		}
	}
	g.TokenExpiry, g.CreatedAt, g.LastSeen = time.Time{}, time.Time{}, time.Time{}
	w.TokenExpiry, w.CreatedAt, w.LastSeen = time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("got %+v, want %+v", g, w)
	}
	return ""
}

// testStore is the contract every Store meets. newStore returns an empty
// store that reads time from now.
func testStore(t *testing.T, newStore func(t *testing.T, now func() time.Time) Store) {
	ctx := context.Background()
	setup := func(t *testing.T, needFakeClock bool) (Store, *fakeClock) {
		t.Helper()
		clk := newClock()
		st := newStore(t, clk.Now)
		if _, ok := st.(wallClock); ok && needFakeClock {
			t.Skip("store expiry follows the wall clock only")
		}
		return st, clk
	}
	const id1, id2, id3 = "id-one", "id-two", "id-three"

	t.Run("RoundTrip", func(t *testing.T) {
		st, clk := setup(t, false)
		want := sampleSession(id1, "3456789012", clk.Now())
		if err := st.Save(ctx, want, time.Hour); err != nil {
			t.Fatalf("Save: %v", err)
		}
		got, err := st.Load(ctx, id1)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if d := sessionDiff(got, want); d != "" {
			t.Error(d)
		}
		if got.Name != "홍길동" {
			t.Errorf("Name: got %q, want %q", got.Name, "홍길동")
		}
	})

	t.Run("Copies", func(t *testing.T) {
		st, clk := setup(t, false)
		in := sampleSession(id1, "1", clk.Now())
		if err := st.Save(ctx, in, time.Hour); err != nil {
			t.Fatalf("Save: %v", err)
		}
		in.Name = "changed after save"
		a, err := st.Load(ctx, id1)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		a.Name, a.AccessToken = "changed after load", ""
		b, err := st.Load(ctx, id1)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if b.Name != "홍길동" || b.AccessToken != "access-token-"+id1 {
			t.Errorf("got Name %q AccessToken %q, want the saved values", b.Name, b.AccessToken)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		st, clk := setup(t, false)
		if _, err := st.Load(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Load: got %v, want ErrNotFound", err)
		}
		if err := st.Touch(ctx, "nope", clk.Now(), time.Hour); !errors.Is(err, ErrNotFound) {
			t.Errorf("Touch: got %v, want ErrNotFound", err)
		}
		if _, err := st.Load(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Load after Touch: got %v, want ErrNotFound (Touch must not create)", err)
		}
		if _, err := st.TakeLoginState(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("TakeLoginState: got %v, want ErrNotFound", err)
		}
		if err := st.Delete(ctx, "nope"); err != nil {
			t.Errorf("Delete: got %v, want nil", err)
		}
		if err := st.DeleteLoginState(ctx, "nope"); err != nil {
			t.Errorf("DeleteLoginState: got %v, want nil", err)
		}
		if ss, err := st.ListUser(ctx, "kakao:nobody"); err != nil || len(ss) != 0 {
			t.Errorf("ListUser: got %d sessions, %v; want 0, nil", len(ss), err)
		}
		if n, err := st.DeleteUser(ctx, "kakao:nobody"); err != nil || n != 0 {
			t.Errorf("DeleteUser: got %d, %v; want 0, nil", n, err)
		}
	})

	t.Run("BadInput", func(t *testing.T) {
		st, clk := setup(t, false)
		s := sampleSession(id1, "1", clk.Now())
		noID := sampleSession("", "1", clk.Now())
		for _, tc := range []struct {
			name string
			err  error
		}{
			{"nil session", st.Save(ctx, nil, time.Hour)},
			{"empty id", st.Save(ctx, noID, time.Hour)},
			{"zero ttl", st.Save(ctx, s, 0)},
			{"negative touch ttl", st.Touch(ctx, id1, clk.Now(), -time.Second)},
			{"nil login state", st.PutLoginState(ctx, "s", nil, quota(clk, time.Minute))},
			{"empty state", st.PutLoginState(ctx, "", encLogin(&LoginState{Provider: "p"}), quota(clk, time.Minute))},
			{"zero state ttl", st.PutLoginState(ctx, "s", encLogin(&LoginState{Provider: "p"}), quota(clk, 0))},
			{"no budget", st.PutLoginState(ctx, "s", encLogin(&LoginState{Provider: "p"}), LoginQuota{TTL: time.Minute})},
		} {
			if tc.err == nil {
				t.Errorf("%s: got nil error, want one", tc.name)
			}
		}
	})

	t.Run("Touch", func(t *testing.T) {
		st, clk := setup(t, true)
		s := sampleSession(id1, "1", clk.Now())
		if err := st.Save(ctx, s, 10*time.Minute); err != nil {
			t.Fatalf("Save: %v", err)
		}
		clk.Advance(8 * time.Minute)
		seen := clk.Now()
		if err := st.Touch(ctx, id1, seen, 10*time.Minute); err != nil {
			t.Fatalf("Touch: %v", err)
		}
		clk.Advance(8 * time.Minute) // 16m after Save: alive only if Touch extended the TTL
		got, err := st.Load(ctx, id1)
		if err != nil {
			t.Fatalf("Load after Touch: %v", err)
		}
		want := *s
		want.LastSeen = seen
		if d := sessionDiff(got, &want); d != "" {
			t.Error(d)
		}
		if ss, err := st.ListUser(ctx, s.User()); err != nil || len(ss) != 1 {
			t.Errorf("ListUser after Touch: got %d sessions, %v; want 1 (the index must follow the TTL)", len(ss), err)
		}
		clk.Advance(3 * time.Minute)
		if _, err := st.Load(ctx, id1); !errors.Is(err, ErrNotFound) {
			t.Errorf("Load after the touched TTL: got %v, want ErrNotFound", err)
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		st, clk := setup(t, true)
		s := sampleSession(id1, "1", clk.Now())
		if err := st.Save(ctx, s, time.Minute); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if err := st.PutLoginState(ctx, "st", encLogin(&LoginState{Provider: "naver"}), quota(clk, time.Minute)); err != nil {
			t.Fatalf("PutLoginState: %v", err)
		}
		clk.Advance(59 * time.Second)
		if _, err := st.Load(ctx, id1); err != nil {
			t.Errorf("Load before expiry: %v", err)
		}
		clk.Advance(2 * time.Second)
		if _, err := st.Load(ctx, id1); !errors.Is(err, ErrNotFound) {
			t.Errorf("Load after expiry: got %v, want ErrNotFound", err)
		}
		if ss, _ := st.ListUser(ctx, s.User()); len(ss) != 0 {
			t.Errorf("ListUser after expiry: got %d sessions, want 0", len(ss))
		}
		if _, err := st.TakeLoginState(ctx, "st"); !errors.Is(err, ErrNotFound) {
			t.Errorf("TakeLoginState after expiry: got %v, want ErrNotFound", err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		st, clk := setup(t, false)
		s := sampleSession(id1, "1", clk.Now())
		if err := st.Save(ctx, s, time.Hour); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if err := st.Delete(ctx, id1); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := st.Load(ctx, id1); !errors.Is(err, ErrNotFound) {
			t.Errorf("Load after Delete: got %v, want ErrNotFound", err)
		}
		if ss, _ := st.ListUser(ctx, s.User()); len(ss) != 0 {
			t.Errorf("ListUser after Delete: got %d sessions, want 0", len(ss))
		}
	})

	t.Run("UserIndex", func(t *testing.T) {
		st, clk := setup(t, false)
		a := sampleSession(id1, "홍", clk.Now())
		clk.Advance(time.Second)
		b := sampleSession(id2, "홍", clk.Now())
		other := sampleSession(id3, "x", clk.Now())
		other.Provider = "naver"
		for _, s := range []*Session{b, a, other} {
			if err := st.Save(ctx, s, time.Hour); err != nil {
				t.Fatalf("Save: %v", err)
			}
		}
		ss, err := st.ListUser(ctx, "kakao:홍")
		if err != nil {
			t.Fatalf("ListUser: %v", err)
		}
		if len(ss) != 2 || ss[0].ID != id1 || ss[1].ID != id2 {
			t.Fatalf("ListUser: got %s, want [%s %s] (oldest first)", ids(ss), id1, id2)
		}
		if ss[0].Name != "홍길동" {
			t.Errorf("ListUser name: got %q, want %q", ss[0].Name, "홍길동")
		}
		if n, err := st.DeleteUser(ctx, "kakao:홍"); err != nil || n != 2 {
			t.Errorf("DeleteUser: got %d, %v; want 2, nil", n, err)
		}
		for _, id := range []string{id1, id2} {
			if _, err := st.Load(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("Load %s after DeleteUser: got %v, want ErrNotFound", id, err)
			}
		}
		if _, err := st.Load(ctx, id3); err != nil {
			t.Errorf("another user's session after DeleteUser: %v", err)
		}
		if n, err := st.DeleteAll(ctx); err != nil || n != 1 {
			t.Errorf("DeleteAll: got %d, %v; want 1, nil", n, err)
		}
		if _, err := st.Load(ctx, id3); !errors.Is(err, ErrNotFound) {
			t.Errorf("Load after DeleteAll: got %v, want ErrNotFound", err)
		}
		if ss, _ := st.ListUser(ctx, other.User()); len(ss) != 0 {
			t.Errorf("ListUser after DeleteAll: got %d sessions, want 0", len(ss))
		}
	})

	t.Run("IndexOutlivesShortSession", func(t *testing.T) {
		st, clk := setup(t, true)
		long := sampleSession(id1, "1", clk.Now())
		short := sampleSession(id2, "1", clk.Now())
		if err := st.Save(ctx, long, 2*time.Hour); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if err := st.Save(ctx, short, 10*time.Minute); err != nil {
			t.Fatalf("Save: %v", err)
		}
		clk.Advance(time.Hour)
		ss, err := st.ListUser(ctx, long.User())
		if err != nil || len(ss) != 1 || ss[0].ID != id1 {
			t.Errorf("ListUser: got %s, %v; want [%s]", ids(ss), err, id1)
		}
		if n, err := st.DeleteUser(ctx, long.User()); err != nil || n != 1 {
			t.Errorf("DeleteUser: got %d, %v; want 1, nil", n, err)
		}
	})

	testStoreLogins(t, setup)

	t.Run("Indexes", func(t *testing.T) {
		st, clk := setup(t, false)
		a := sampleSession(id1, "1", clk.Now())
		a.SID, a.UserAgent, a.IP = "sid-1", "Mozilla/5.0 (iPhone)", "2001:db8::1"
		b := sampleSession(id2, "2", clk.Now().Add(time.Second))
		b.SID = "sid-1"
		for _, s := range []*Session{a, b} {
			if err := st.Save(ctx, s, time.Hour); err != nil {
				t.Fatalf("Save: %v", err)
			}
		}
		got, err := st.ListSID(ctx, "kakao", "sid-1")
		if err != nil || !slices.Equal(ids(got), []string{id1, id2}) {
			t.Fatalf("ListSID: got %v, %v; want both", ids(got), err)
		}
		if got[0].UserAgent != a.UserAgent || got[0].IP != a.IP || got[0].SID != a.SID {
			t.Errorf("ListSID: got UA %q IP %q SID %q; want what was saved", got[0].UserAgent, got[0].IP, got[0].SID)
		}
		if got, _ := st.ListSID(ctx, "google", "sid-1"); len(got) != 0 {
			t.Errorf("ListSID of another provider: got %v, want none", ids(got))
		}
		users, err := st.ListUsers(ctx)
		if err != nil || !slices.Equal(users, []string{"kakao:1", "kakao:2"}) {
			t.Errorf("ListUsers: got %v, %v; want [kakao:1 kakao:2]", users, err)
		}
		if err := st.Delete(ctx, id1); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.ListSID(ctx, "kakao", "sid-1"); !slices.Equal(ids(got), []string{id2}) {
			t.Errorf("ListSID after Delete: got %v, want [%s]", ids(got), id2)
		}
		b.SID = ""
		if err := st.Save(ctx, b, time.Hour); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.ListSID(ctx, "kakao", "sid-1"); len(got) != 0 {
			t.Errorf("ListSID after the SID was cleared: got %v, want none", ids(got))
		}
	})

	t.Run("Ping", func(t *testing.T) {
		st, _ := setup(t, false)
		if err := st.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})
}

func ids(ss []*Session) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}
