package session

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestManagerRefresh runs the refresh protocol's branches on the memory
// store and the fake clock.
func TestManagerRefresh(t *testing.T) {
	ctx := context.Background()
	due := func(s *Session) bool { return s.AccessToken == "old" }
	newTokens := func(context.Context, string) (Tokens, error) {
		return Tokens{AccessToken: "new", RefreshToken: "rt2", Expiry: time.Unix(1767225600, 0)}, nil
	}
	for _, tc := range []struct {
		name    string
		call    func(m *Manager, s *Session) func(context.Context, string) (Tokens, error)
		lock    bool // another request holds the lock
		want    RefreshOutcome
		wantNil bool
		wantAT  string
	}{
		{name: "ok", call: func(*Manager, *Session) func(context.Context, string) (Tokens, error) { return newTokens },
			want: RefreshOK, wantAT: "new"},
		{name: "locked", lock: true, call: func(*Manager, *Session) func(context.Context, string) (Tokens, error) { return newTokens },
			want: RefreshSkipped, wantAT: "old"},
		{name: "rejected", call: func(*Manager, *Session) func(context.Context, string) (Tokens, error) {
			return func(context.Context, string) (Tokens, error) { return Tokens{}, ErrRefreshRejected }
		}, want: RefreshRevoked, wantNil: true},
		{name: "provider down", call: func(*Manager, *Session) func(context.Context, string) (Tokens, error) {
			return func(context.Context, string) (Tokens, error) { return Tokens{}, errors.New("502") }
		}, want: RefreshFailed, wantAT: "old"},
		{name: "signed out during the call", call: func(m *Manager, s *Session) func(context.Context, string) (Tokens, error) {
			return func(ctx context.Context, rt string) (Tokens, error) {
				if err := m.End(ctx, s.ID); err != nil {
					t.Fatal(err)
				}
				return newTokens(ctx, rt)
			}
		}, want: RefreshEnded, wantNil: true},
		{name: "refreshed by another replica first", call: func(m *Manager, s *Session) func(context.Context, string) (Tokens, error) {
			t.Helper()
			next := *s
			next.AccessToken = "other replica's"
			if err := m.Update(ctx, &next); err != nil {
				t.Fatal(err)
			}
			return func(context.Context, string) (Tokens, error) {
				t.Error("the provider was asked although the reloaded session was not due")
				return Tokens{}, nil
			}
		}, want: RefreshSkipped, wantAT: "other replica's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _, _ := newTestManager(t, ManagerOptions{})
			in := identity()
			in.AccessToken, in.RefreshToken = "old", "rt1"
			s, err := m.Create(ctx, in, "")
			if err != nil {
				t.Fatal(err)
			}
			if tc.lock {
				if ok, _ := m.store.TryLock(ctx, "refresh:"+s.ID, time.Minute); !ok {
					t.Fatal("could not take the lock")
				}
			}
			got, outcome, _ := m.Refresh(ctx, s, RefreshRequest{Due: due, Call: tc.call(m, s)})
			if outcome != tc.want {
				t.Errorf("outcome %v, want %v", outcome, tc.want)
			}
			if tc.wantNil {
				if got != nil {
					t.Errorf("got a session, want nil (ended)")
				}
				if _, err := m.Get(ctx, s.ID); !errors.Is(err, ErrNotFound) {
					t.Errorf("Get after %s: got %v, want ErrNotFound", tc.name, err)
				}
				return
			}
			if got == nil || got.AccessToken != tc.wantAT {
				t.Fatalf("got %+v, want access token %q", got, tc.wantAT)
			}
			stored, err := m.Reload(ctx, s.ID)
			if err != nil || stored.AccessToken != tc.wantAT {
				t.Errorf("stored access token %q (%v), want %q", stored.AccessToken, err, tc.wantAT)
			}
			if tc.want == RefreshOK && stored.RefreshToken != "rt2" {
				t.Errorf("stored refresh token %q, want the rotated one", stored.RefreshToken)
			}
			if ok, _ := m.store.TryLock(ctx, "refresh:"+s.ID, time.Minute); !ok && !tc.lock {
				t.Error("the lock is still held after Refresh returned")
			}
		})
	}
}

// TestRefreshRejectedEndsEveryIdentitySession: a refused refresh token
// means the provider ended the grant, so every session of that identity
// ends (the other devices too), and another user's session stays.
func TestRefreshRejectedEndsEveryIdentitySession(t *testing.T) {
	ctx := context.Background()
	m, _, _ := newTestManager(t, ManagerOptions{})
	create := func(in *Session) *Session {
		t.Helper()
		in.AccessToken, in.RefreshToken = "old", "rt-"+in.Subject
		s, err := m.Create(ctx, in, "")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	phone, laptop := create(identity()), create(identity())
	other := identity()
	other.Subject = "someone-else"
	stays := create(other)

	got, outcome, err := m.Refresh(ctx, phone, RefreshRequest{
		Due:  func(s *Session) bool { return s.AccessToken == "old" },
		Call: func(context.Context, string) (Tokens, error) { return Tokens{}, ErrRefreshRejected },
	})
	if got != nil || outcome != RefreshRevoked || err != nil {
		t.Fatalf("Refresh: session %v, outcome %v, error %v; want nil, RefreshRevoked, nil", got != nil, outcome, err)
	}
	for _, s := range []*Session{phone, laptop} {
		if _, err := m.Get(ctx, s.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("session of %s after a refused refresh: %v, want ErrNotFound", s.User(), err)
		}
	}
	if _, err := m.Get(ctx, stays.ID); err != nil {
		t.Errorf("another user's session after the refusal: %v, want it kept", err)
	}
}
