package session

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socialgate/socialgate/session/redistest"
)

// accountManagers runs f against accounts on the memory store (a file) and,
// unless -short, on a real redis-server.
func accountManagers(t *testing.T, linkByEmail bool, f func(t *testing.T, m *Manager, clk *fakeClock)) {
	t.Run("memory+file", func(t *testing.T) {
		clk := newClock()
		st := NewMemory(MemoryOptions{Now: clk.Now})
		t.Cleanup(func() { _ = st.Close() })
		m, err := NewManager(ManagerOptions{Store: st, Now: clk.Now, Accounts: AccountsOptions{Enabled: true,
			LinkByEmail: linkByEmail, File: filepath.Join(t.TempDir(), "accounts.json")}})
		if err != nil {
			t.Fatal(err)
		}
		f(t, m, clk)
	})
	t.Run("redis", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts redis-server")
		}
		clk := newClock()
		r, err := NewRedis(RedisOptions{Addrs: []string{redistest.Start(t).Addr}, Secret: testSecret})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		m, err := NewManager(ManagerOptions{Store: r, Now: clk.Now, Accounts: AccountsOptions{Enabled: true, LinkByEmail: linkByEmail}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close() })
		f(t, m, clk)
	})
}

func TestAccountsLinkUnlink(t *testing.T) {
	ctx := context.Background()
	accountManagers(t, false, func(t *testing.T, m *Manager, _ *fakeClock) {
		a, err := m.SignInAccount(ctx, SignInLogin{Identity: "google:1"})
		if err != nil {
			t.Fatal(err)
		}
		if !validAccountID(a.ID) || !slices.Equal(a.Identities, []string{"google:1"}) {
			t.Fatalf("new account %+v", a)
		}
		again, err := m.SignInAccount(ctx, SignInLogin{Identity: "google:1"})
		if err != nil || again.ID != a.ID {
			t.Fatalf("second sign-in: %+v %v, want the same user %s", again, err, a.ID)
		}
		b, err := m.SignInAccount(ctx, SignInLogin{Identity: "naver:x"})
		if err != nil || b.ID == a.ID {
			t.Fatalf("other identity: %+v %v, want another user", b, err)
		}
		// Link kakao to A; B may not take it; A signs in with it.
		if a, err = m.LinkIdentity(ctx, a.ID, "kakao:9"); err != nil || !slices.Equal(a.Identities, []string{"google:1", "kakao:9"}) {
			t.Fatalf("link: %+v %v", a, err)
		}
		if _, err := m.LinkIdentity(ctx, a.ID, "kakao:9"); err != nil {
			t.Errorf("linking again: %v, want no error", err)
		}
		if _, err := m.LinkIdentity(ctx, b.ID, "kakao:9"); !errors.Is(err, ErrIdentityTaken) {
			t.Errorf("link an identity owned by A to B: %v, want ErrIdentityTaken", err)
		}
		if _, err := m.LinkIdentity(ctx, b.ID, "google:1"); !errors.Is(err, ErrIdentityTaken) {
			t.Errorf("link A's first identity to B: %v, want ErrIdentityTaken", err)
		}
		if got, err := m.SignInAccount(ctx, SignInLogin{Identity: "kakao:9"}); err != nil || got.ID != a.ID {
			t.Errorf("sign in with the linked identity: %+v %v, want %s", got, err, a.ID)
		}
		// Unlink: never the last one.
		if _, err := m.UnlinkIdentity(ctx, b.ID, "naver:x"); !errors.Is(err, ErrLastIdentity) {
			t.Errorf("unlink the last identity: %v, want ErrLastIdentity", err)
		}
		if _, err := m.UnlinkIdentity(ctx, b.ID, "kakao:9"); !errors.Is(err, ErrNoAccount) {
			t.Errorf("unlink another user's identity: %v, want ErrNoAccount", err)
		}
		if a, err = m.UnlinkIdentity(ctx, a.ID, "kakao:9"); err != nil || !slices.Equal(a.Identities, []string{"google:1"}) {
			t.Fatalf("unlink: %+v %v", a, err)
		}
		// Now free: B may link it.
		if b, err = m.LinkIdentity(ctx, b.ID, "kakao:9"); err != nil || !b.has("kakao:9") {
			t.Errorf("link the freed identity to B: %+v %v", b, err)
		}
		// The provider says B's naver is gone, then kakao too: B is deleted.
		if _, err := m.IdentityGone(ctx, "naver:x"); err != nil {
			t.Fatal(err)
		}
		if _, err := m.IdentityGone(ctx, "kakao:9"); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Account(ctx, b.ID); !errors.Is(err, ErrNoAccount) {
			t.Errorf("account without identities: %v, want ErrNoAccount", err)
		}
		if got, err := m.AccountOf(ctx, "kakao:9"); err != nil || got != nil {
			t.Errorf("owner of a gone identity: %+v %v, want none", got, err)
		}
	})
}

func TestAccountsLinkByEmail(t *testing.T) {
	ctx := context.Background()
	accountManagers(t, true, func(t *testing.T, m *Manager, _ *fakeClock) {
		a, err := m.SignInAccount(ctx, SignInLogin{Identity: "google:1", Email: "Hong@Example.kr", EmailVerified: true})
		if err != nil {
			t.Fatal(err)
		}
		k, err := m.SignInAccount(ctx, SignInLogin{Identity: "kakao:2", Email: "hong@example.KR", EmailVerified: true})
		if err != nil || k.ID != a.ID || !slices.Equal(k.Identities, []string{"google:1", "kakao:2"}) {
			t.Errorf("verified e-mail: %+v %v, want it joined to %s", k, err, a.ID)
		}
		n, err := m.SignInAccount(ctx, SignInLogin{Identity: "naver:3", Email: "hong@example.kr", EmailVerified: false})
		if err != nil || n.ID == a.ID {
			t.Errorf("unverified e-mail: %+v %v, want a user of its own", n, err)
		}
	})
	// Without link_by_email, a verified e-mail joins nothing.
	accountManagers(t, false, func(t *testing.T, m *Manager, _ *fakeClock) {
		a, _ := m.SignInAccount(ctx, SignInLogin{Identity: "google:1", Email: "hong@example.kr", EmailVerified: true})
		k, err := m.SignInAccount(ctx, SignInLogin{Identity: "kakao:2", Email: "hong@example.kr", EmailVerified: true})
		if err != nil || k.ID == a.ID {
			t.Errorf("link_by_email off: %+v %v, want a user of its own", k, err)
		}
	})
}

// TestAccountsSyncSessions: linking and unlinking reach the user's live
// sessions at once; unlinking ends the sessions of that identity.
func TestAccountsSyncSessions(t *testing.T) {
	ctx := context.Background()
	accountManagers(t, false, func(t *testing.T, m *Manager, _ *fakeClock) {
		a, err := m.SignInAccount(ctx, SignInLogin{Identity: "google:1"})
		if err != nil {
			t.Fatal(err)
		}
		g, err := m.Create(ctx, &Session{Provider: "google", Subject: "1", Account: a.ID, Identities: a.Identities}, "")
		if err != nil {
			t.Fatal(err)
		}
		a, _ = m.LinkIdentity(ctx, a.ID, "kakao:2")
		k, err := m.Create(ctx, &Session{Provider: "kakao", Subject: "2", Account: a.ID, Identities: a.Identities}, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Get(ctx, g.ID)
		if err != nil || !slices.Equal(got.Identities, []string{"google:1", "kakao:2"}) {
			t.Fatalf("google session after link: %+v %v", got, err)
		}
		if ss, err := m.AccountSessions(ctx, a); err != nil || len(ss) != 2 {
			t.Errorf("AccountSessions: %d %v, want both", len(ss), err)
		}
		if _, err := m.UnlinkIdentity(ctx, a.ID, "kakao:2"); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Get(ctx, k.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("kakao session after unlinking kakao: %v, want ended", err)
		}
		if got, err := m.Get(ctx, g.ID); err != nil || !slices.Equal(got.Identities, []string{"google:1"}) {
			t.Errorf("google session after unlink: %+v %v", got, err)
		}
	})
}

// TestEndOwnSessions: sign-out everywhere with accounts ends the sessions
// of every linked identity, and nobody else's.
func TestEndOwnSessions(t *testing.T) {
	ctx := context.Background()
	accountManagers(t, false, func(t *testing.T, m *Manager, _ *fakeClock) {
		a, err := m.SignInAccount(ctx, SignInLogin{Identity: "google:1"})
		if err != nil {
			t.Fatal(err)
		}
		if a, err = m.LinkIdentity(ctx, a.ID, "kakao:2"); err != nil {
			t.Fatal(err)
		}
		other, err := m.SignInAccount(ctx, SignInLogin{Identity: "naver:3"})
		if err != nil {
			t.Fatal(err)
		}
		var mine []*Session
		for _, id := range []string{"google:1", "kakao:2", "kakao:2"} {
			p, sub, _ := strings.Cut(id, ":")
			s, err := m.Create(ctx, &Session{Provider: p, Subject: sub, Account: a.ID, Identities: a.Identities}, "")
			if err != nil {
				t.Fatal(err)
			}
			mine = append(mine, s)
		}
		theirs, err := m.Create(ctx, &Session{Provider: "naver", Subject: "3", Account: other.ID}, "")
		if err != nil {
			t.Fatal(err)
		}
		if n, err := m.EndOwnSessions(ctx, mine[0]); err != nil || n != 3 {
			t.Fatalf("EndOwnSessions from the Google session: %d, %v; want 3 (Google and both Kakao)", n, err)
		}
		for _, s := range mine {
			if _, err := m.Get(ctx, s.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s session still there: %v", s.Provider, err)
			}
		}
		if _, err := m.Get(ctx, theirs.ID); err != nil {
			t.Errorf("another person's session ended: %v", err)
		}
	})
}

// TestAccountsFileSurvivesRestart: the memory store's accounts come back
// from the file, which holds no e-mail in clear and is private.
func TestAccountsFileSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "accounts.json")
	open := func() *Manager {
		st := NewMemory(MemoryOptions{})
		t.Cleanup(func() { _ = st.Close() })
		m, err := NewManager(ManagerOptions{Store: st, Accounts: AccountsOptions{Enabled: true, LinkByEmail: true, File: file}})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := open()
	a, _ := m.SignInAccount(ctx, SignInLogin{Identity: "google:1", Email: "hong@example.kr", EmailVerified: true})
	if _, err := m.LinkIdentity(ctx, a.ID, "kakao:2"); err != nil {
		t.Fatal(err)
	}
	m2 := open()
	got, err := m2.SignInAccount(ctx, SignInLogin{Identity: "kakao:2"})
	if err != nil || got.ID != a.ID || len(got.Identities) != 2 {
		t.Errorf("after restart: %+v %v, want %s with both identities", got, err, a.ID)
	}
	if n, err := m2.SignInAccount(ctx, SignInLogin{Identity: "naver:3", Email: "hong@example.kr", EmailVerified: true}); err != nil || n.ID != a.ID {
		t.Errorf("e-mail index after restart: %+v %v", n, err)
	}
	b, _ := os.ReadFile(file)
	fi, _ := os.Stat(file)
	if strings.Contains(string(b), "hong@") || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, e-mail in clear %t", fi.Mode().Perm(), strings.Contains(string(b), "hong@"))
	}
	// A corrupt file is an error at start, never an empty set of accounts.
	if err := os.WriteFile(file, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewManager(ManagerOptions{Store: NewMemory(MemoryOptions{}), Accounts: AccountsOptions{Enabled: true, File: file}}); err == nil {
		t.Error("corrupt accounts file accepted")
	}
}

func TestAccountsOff(t *testing.T) {
	m, err := NewManager(ManagerOptions{Store: NewMemory(MemoryOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	if m.AccountsEnabled() {
		t.Fatal("accounts on without Enabled")
	}
	if _, err := m.SignInAccount(context.Background(), SignInLogin{Identity: "google:1"}); !errors.Is(err, ErrAccountsOff) {
		t.Errorf("SignInAccount: %v, want ErrAccountsOff", err)
	}
}

// TestFirstUse: a marker is single use until it expires, on the injected
// clock; with Redis, across replicas.
func TestFirstUse(t *testing.T) {
	ctx := context.Background()
	accountManagers(t, false, func(t *testing.T, m *Manager, clk *fakeClock) {
		until := clk.Now().Add(time.Minute)
		for i, want := range []bool{true, false, false} {
			if got, err := m.FirstUse(ctx, "jti-1", until); err != nil || got != want {
				t.Fatalf("use %d: %t %v, want %t", i, got, err, want)
			}
		}
		if got, _ := m.FirstUse(ctx, "jti-2", until); !got {
			t.Error("another key: not first")
		}
	})
	clk := newClock()
	m, _ := NewManager(ManagerOptions{Store: NewMemory(MemoryOptions{Now: clk.Now}), Now: clk.Now})
	until := clk.Now().Add(time.Minute)
	_, _ = m.FirstUse(ctx, "k", until)
	clk.Advance(2 * time.Minute)
	if got, _ := m.FirstUse(ctx, "k", clk.Now().Add(time.Minute)); !got {
		t.Error("expired marker still refuses")
	}
	// Bounded: a flood fills the set, then refuses rather than forgets.
	for i := range maxOnceEntries {
		if _, err := m.FirstUse(ctx, "flood"+strconv.Itoa(i), clk.Now().Add(time.Minute)); err != nil {
			break
		}
	}
	if _, err := m.FirstUse(ctx, "one-more", clk.Now().Add(time.Minute)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("past the bound: %v, want ErrUnavailable", err)
	}
	clk.Advance(2 * time.Minute)
	if got, err := m.FirstUse(ctx, "after-expiry", clk.Now().Add(time.Minute)); err != nil || !got {
		t.Errorf("after the flood expired: %t %v", got, err)
	}
}

// TestAccountsConcurrentFirstLogin: replicas racing on the first login of
// one identity end with one user, and racing links of one identity to two
// users give it to exactly one.
func TestAccountsConcurrentFirstLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	ctx := context.Background()
	srv := redistest.Start(t)
	var ms []*Manager
	for range 4 {
		r, err := NewRedis(RedisOptions{Addrs: []string{srv.Addr}, Secret: testSecret})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		m, err := NewManager(ManagerOptions{Store: r, Accounts: AccountsOptions{Enabled: true}})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	for round := range 20 {
		ident := "google:race" + strconv.Itoa(round)
		ids := make([]string, len(ms))
		errs := make([]error, len(ms))
		var wg sync.WaitGroup
		for i, m := range ms {
			wg.Go(func() {
				a, err := m.SignInAccount(ctx, SignInLogin{Identity: ident})
				errs[i] = err
				if a != nil {
					ids[i] = a.ID
				}
			})
		}
		wg.Wait()
		for i := range ms {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Fatalf("round %d: replica %d got %q (%v), replica 0 %q", round, i, ids[i], errs[i], ids[0])
			}
		}
		// Two users race to link one identity: one wins, one is refused.
		u1, _ := ms[0].SignInAccount(ctx, SignInLogin{Identity: "naver:a" + strconv.Itoa(round)})
		u2, _ := ms[1].SignInAccount(ctx, SignInLogin{Identity: "naver:b" + strconv.Itoa(round)})
		target := "kakao:" + strconv.Itoa(round+1)
		var e1, e2 error
		wg.Go(func() { _, e1 = ms[2].LinkIdentity(ctx, u1.ID, target) })
		wg.Go(func() { _, e2 = ms[3].LinkIdentity(ctx, u2.ID, target) })
		wg.Wait()
		if (e1 == nil) == (e2 == nil) || !(errors.Is(e1, ErrIdentityTaken) || errors.Is(e2, ErrIdentityTaken)) {
			t.Fatalf("round %d: link race: %v, %v; want exactly one ErrIdentityTaken", round, e1, e2)
		}
	}
}
