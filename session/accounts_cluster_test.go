package session

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/socialgate/socialgate/session/redistest"
)

// TestAccountsOnCluster: every accounts command (Lua scripts included)
// names one key, so a real three-master cluster answers no CROSSSLOT while
// users and identities land on different slots.
func TestAccountsOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a redis cluster")
	}
	ctx := context.Background()
	cl := redistest.StartCluster(t)
	r := newClusterStore(t, cl, "acc:")
	m, err := NewManager(ManagerOptions{Store: r, Accounts: AccountsOptions{Enabled: true, LinkByEmail: true}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		n := strconv.Itoa(i)
		a, err := m.SignInAccount(ctx, SignInLogin{Identity: "google:" + n, Email: "u" + n + "@example.kr", EmailVerified: true})
		if err != nil {
			t.Fatalf("sign in %d: %v", i, err)
		}
		if k, err := m.SignInAccount(ctx, SignInLogin{Identity: "kakao:" + n, Email: "u" + n + "@example.kr", EmailVerified: true}); err != nil || k.ID != a.ID {
			t.Fatalf("join by e-mail %d: %+v %v", i, k, err)
		}
		if _, err := m.LinkIdentity(ctx, a.ID, "naver:"+n); err != nil {
			t.Fatalf("link %d: %v", i, err)
		}
		if _, err := m.UnlinkIdentity(ctx, a.ID, "naver:"+n); err != nil {
			t.Fatalf("unlink %d: %v", i, err)
		}
		if _, err := m.IdentityGone(ctx, "kakao:"+n); err != nil {
			t.Fatalf("gone %d: %v", i, err)
		}
		if _, err := m.UnlinkIdentity(ctx, a.ID, "google:"+n); !errors.Is(err, ErrLastIdentity) {
			t.Fatalf("unlink the last %d: %v", i, err)
		}
		if ok, err := m.FirstUse(ctx, "jti-"+n, time.Now().Add(time.Minute)); err != nil || !ok {
			t.Fatalf("FirstUse %d: %t %v", i, ok, err)
		}
	}
}
