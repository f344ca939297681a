package session

import (
	"context"
	"testing"
	"time"

	"github.com/socialgate/socialgate/session/redistest"
)

// TestRedisMemoryPerIndexEntry measures on a real Redis what the indexes
// cost: a user's index set with one session, what each further session of
// the same user adds, and the same for the provider-sid index, plus what
// recording the User-Agent and IP adds to the session key.
func TestRedisMemoryPerIndexEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	ctx := context.Background()
	srv := redistest.Start(t)
	c := srv.Client()
	r := newRedisOn(t, c, testSecret)
	usage := func(key string) int64 {
		t.Helper()
		n, err := c.MemoryUsage(ctx, key, 0).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	const users, perUser = 200, 5
	var first, more, sidFirst, sidMore, bare, withUA int64
	for range users {
		s0 := realisticSession("", time.Now())
		s0.SID = randomToken(36) // Keycloak-style UUID-length sid
		for i := range perUser {
			s := *s0
			s.ID = newToken()
			if i == 0 {
				plain := s
				plain.SID = ""
				if err := r.Save(ctx, &plain, time.Hour); err != nil {
					t.Fatal(err)
				}
				bare += usage(r.sessionKey(s.ID))
			}
			s.UserAgent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
			s.IP = "203.0.113.77"
			if err := r.Save(ctx, &s, time.Hour); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				withUA += usage(r.sessionKey(s.ID))
				first += usage(r.userKey(s.User()))
				sidFirst += usage(r.sidIndexKey(sidKey(s.Provider, s.SID)))
			}
		}
		more += usage(r.userKey(s0.User()))
		sidMore += usage(r.sidIndexKey(sidKey(s0.Provider, s0.SID)))
	}
	first, sidFirst, bare, withUA = first/users, sidFirst/users, bare/users, withUA/users
	// What each session after the first adds to an index set.
	more = (more/users - first) / (perUser - 1)
	sidMore = (sidMore/users - sidFirst) / (perUser - 1)
	t.Logf("user index: %d B with one session, +%d B per further session; sid index: %d B with one session, +%d B per further; "+
		"session key %d B, %d B with User-Agent, IP and sid recorded", first, more, sidFirst, sidMore, bare, withUA)
	if first <= 0 || more <= 0 || sidFirst <= 0 || withUA <= bare {
		t.Errorf("not measured: %d %d %d %d %d", first, more, sidFirst, bare, withUA)
	}
	if first+sidFirst > 512 || more > 128 {
		t.Errorf("index entries cost %d+%d B for the first session, %d B for each further: more than expected", first, sidFirst, more)
	}
}
