package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// storeSetup gives a subtest an empty store and its clock (see testStore).
type storeSetup func(t *testing.T, needFakeClock bool) (Store, *fakeClock)

// testStoreLogins is the login-state part of the Store contract: single
// use under concurrent takes, deletion, and the byte budgets of pending
// logins.
func testStoreLogins(t *testing.T, setup storeSetup) {
	ctx := context.Background()
	t.Run("LoginStateSingleUse", func(t *testing.T) {
		st, clk := setup(t, false)
		want := LoginState{Provider: "kakao", Verifier: "v", Nonce: "n", Redirect: "/위키?q=한글#맨위", CreatedAt: clk.Now()}
		for i := range 20 {
			state := fmt.Sprintf("state-%d", i)
			if err := st.PutLoginState(ctx, state, encLogin(&want), quota(clk, 10*time.Minute)); err != nil {
				t.Fatalf("PutLoginState: %v", err)
			}
			var wg sync.WaitGroup
			results := make([]error, 2)
			got := make([]*LoginState, 2)
			for j := range results {
				wg.Go(func() {
					var b []byte
					if b, results[j] = st.TakeLoginState(ctx, state); results[j] == nil {
						got[j], results[j] = decodeLoginState(b)
					}
				})
			}
			wg.Wait()
			wins := 0
			for j, err := range results {
				switch {
				case err == nil:
					wins++
					if got[j].Redirect != want.Redirect || got[j].Provider != want.Provider || !got[j].CreatedAt.Equal(want.CreatedAt) {
						t.Errorf("TakeLoginState: got %+v, want %+v", *got[j], want)
					}
				case !errors.Is(err, ErrNotFound):
					t.Errorf("losing TakeLoginState: got %v, want ErrNotFound", err)
				}
			}
			if wins != 1 {
				t.Fatalf("%s: got %d winners, want exactly 1", state, wins)
			}
		}
	})

	t.Run("DeleteLoginState", func(t *testing.T) {
		st, clk := setup(t, false)
		if err := st.PutLoginState(ctx, "st", encLogin(&LoginState{Provider: "google", CreatedAt: clk.Now()}), quota(clk, time.Minute)); err != nil {
			t.Fatalf("PutLoginState: %v", err)
		}
		if err := st.DeleteLoginState(ctx, "st"); err != nil {
			t.Fatalf("DeleteLoginState: %v", err)
		}
		if _, err := st.TakeLoginState(ctx, "st"); !errors.Is(err, ErrNotFound) {
			t.Errorf("TakeLoginState after delete: got %v, want ErrNotFound", err)
		}
	})

	t.Run("LoginQuota", func(t *testing.T) {
		st, clk := setup(t, false)
		data := encLogin(&LoginState{Provider: "kakao", Redirect: "/" + strings.Repeat("가", 600)}) // ~1.8 KB
		cost, clientCost := loginCost("state-00", data)
		q := quota(clk, 10*time.Minute)
		q.Budget = 10 * cost
		q.ClientBudget = 3 * clientCost
		put := func(i int, client string) error {
			q := q
			q.Client = client
			return st.PutLoginState(ctx, fmt.Sprintf("state-%02d", i), data, q)
		}
		for i := range 3 {
			if err := put(i, "198.51.100.1"); err != nil {
				t.Fatalf("client's login %d: %v", i, err)
			}
		}
		if err := put(3, "198.51.100.1"); !errors.Is(err, ErrClientLogins) {
			t.Errorf("client's 4th login: got %v, want ErrClientLogins", err)
		}
		for i := 3; i < 10; i++ {
			if err := put(i, ""); err != nil {
				t.Fatalf("login %d within the budget: %v", i, err)
			}
		}
		for i := 10; i < 20; i++ {
			if err := put(i, fmt.Sprintf("203.0.113.%d", i)); !errors.Is(err, ErrLoginsFull) {
				t.Fatalf("login %d past the budget: got %v, want ErrLoginsFull", i, err)
			}
		}
		// Nothing pending was evicted to make room, and taking one gives
		// its bytes back.
		for i := range 10 {
			if _, err := st.TakeLoginState(ctx, fmt.Sprintf("state-%02d", i)); err != nil {
				t.Errorf("state %d after the flood: %v (a pending login was evicted)", i, err)
			}
		}
		for i := 20; i < 30; i++ {
			if err := put(i, "198.51.100.1"); err != nil && !errors.Is(err, ErrClientLogins) {
				t.Fatalf("login %d after the states were taken: %v", i, err)
			}
		}
		if err := put(30, "198.51.100.2"); err != nil {
			t.Errorf("another client after the states were taken: %v", err)
		}
	})
}

// quota is a generous login quota on clk.
func quota(clk *fakeClock, ttl time.Duration) LoginQuota {
	return LoginQuota{TTL: ttl, Budget: 1 << 30, At: clk.Now()}
}

func encLogin(st *LoginState) []byte { return st.encode() }
