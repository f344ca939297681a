package session

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/socialgate/socialgate/session/redistest"
)

// TestAccountsRedisMemory measures what a linked user costs in Redis
// (MEMORY USAGE, real redis-server): the account hash, one owner key per
// identity and the e-mail index key. Run with -v for the numbers; it fails
// only if a user with two identities costs more than 1 KiB, which would
// mean the layout changed.
func TestAccountsRedisMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	ctx := context.Background()
	srv := redistest.Start(t)
	r, err := NewRedis(RedisOptions{Addrs: []string{srv.Addr}, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	m, err := NewManager(ManagerOptions{Store: r, Accounts: AccountsOptions{Enabled: true, LinkByEmail: true}})
	if err != nil {
		t.Fatal(err)
	}
	const users = 200
	for i := range users {
		a, err := m.SignInAccount(ctx, SignInLogin{Identity: fmt.Sprintf("google:1101694844743862%05d", i),
			Email: fmt.Sprintf("user%d@example.kr", i), EmailVerified: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.LinkIdentity(ctx, a.ID, fmt.Sprintf("kakao:90071992547%05d", i)); err != nil {
			t.Fatal(err)
		}
	}
	c := srv.Client()
	sum := map[string]int64{}
	count := map[string]int{}
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, "socialgate:a*", 1000).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			n, err := c.MemoryUsage(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			kind := strings.SplitN(strings.TrimPrefix(k, "socialgate:"), ":", 2)[0]
			sum[kind] += n
			count[kind]++
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	total := sum["a"] + sum["ai"] + sum["ae"]
	t.Logf("per linked user (2 identities, 1 verified e-mail), %d users: account hash %d B, owner keys %d B (%d per identity), e-mail index %d B; total %d B",
		users, sum["a"]/users, sum["ai"]/users, sum["ai"]/int64(count["ai"]), sum["ae"]/users, total/users)
	if count["a"] != users || count["ai"] != 2*users || count["ae"] != users {
		t.Fatalf("keys: %v, want %d accounts, %d owners, %d e-mails", count, users, 2*users, users)
	}
	if total/users > 1024 {
		t.Errorf("a linked user costs %d B", total/users)
	}
}
