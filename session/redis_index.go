package session

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// scanCount is the SCAN page size for DeleteAll.
const scanCount = 500

// ListUser returns the user's live sessions, oldest first. IDs in the index
// whose session expired are removed from it on the way.
func (r *Redis) ListUser(ctx context.Context, user string) ([]*Session, error) {
	ukey := r.userKey(user)
	ids, err := r.c.SMembers(ctx, ukey).Result()
	if err != nil {
		return nil, unavailable("list user", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	gets := make([]*redis.MapStringStringCmd, len(ids))
	cmds, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			gets[i] = p.HGetAll(ctx, r.sessionKey(id))
		}
		return nil
	})
	if err := cmp.Or(firstErr(cmds), ignoreNil(err)); err != nil {
		return nil, unavailable("list user", err)
	}
	var out []*Session
	var stale []any
	for i, id := range ids {
		s, err := r.decode(id, gets[i].Val())
		if err != nil || s.User() != user {
			stale = append(stale, id)
			continue
		}
		out = append(out, s)
	}
	if len(stale) > 0 {
		// Best effort: a failed prune is retried on the next listing.
		_ = r.c.SRem(ctx, ukey, stale...).Err()
	}
	sortSessions(out)
	return out, nil
}

// DeleteUser deletes the user's sessions and reports how many were live.
// Only the IDs it saw leave the index, so a login racing with the
// revocation stays indexed and can be revoked in turn.
func (r *Redis) DeleteUser(ctx context.Context, user string) (int, error) {
	ukey := r.userKey(user)
	ids, err := r.c.SMembers(ctx, ukey).Result()
	if err != nil {
		return 0, unavailable("delete user", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	dels := make([]*redis.IntCmd, len(ids))
	members := make([]any, len(ids))
	cmds, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			dels[i] = p.Del(ctx, r.sessionKey(id))
			members[i] = id
		}
		return nil
	})
	if err := cmp.Or(firstErr(cmds), ignoreNil(err)); err != nil {
		return 0, unavailable("delete user", err)
	}
	n := 0
	for _, d := range dels {
		n += int(d.Val())
	}
	if err := r.c.SRem(ctx, ukey, members...).Err(); err != nil {
		return n, unavailable("delete user", err)
	}
	return n, nil
}

// DeleteAll deletes every session under the prefix, and the user indexes,
// by scanning. On Cluster every master is scanned, since SCAN covers one
// node only.
func (r *Redis) DeleteAll(ctx context.Context) (int, error) {
	sessions := globEscape(r.prefix) + "s:*"
	users := globEscape(r.prefix) + "u:*"
	var (
		mu sync.Mutex
		n  int
	)
	each := func(ctx context.Context, c redis.Cmdable) error {
		k, err := scanDelete(ctx, c, sessions)
		mu.Lock()
		n += k
		mu.Unlock()
		if err != nil {
			return err
		}
		_, err = scanDelete(ctx, c, users)
		return err
	}
	var err error
	if cc, ok := r.c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return each(ctx, c) })
	} else {
		err = each(ctx, r.c)
	}
	if err != nil {
		return n, unavailable("delete all", err)
	}
	return n, nil
}

// scanDelete deletes the keys matching pattern on one node, a SCAN page at
// a time, and counts them. DELs are single-key so they stay on that node.
func scanDelete(ctx context.Context, c redis.Cmdable, pattern string) (int, error) {
	n := 0
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, pattern, scanCount).Result()
		if err != nil {
			return n, fmt.Errorf("scan: %w", err)
		}
		if len(keys) > 0 {
			dels := make([]*redis.IntCmd, len(keys))
			cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, k := range keys {
					dels[i] = p.Del(ctx, k)
				}
				return nil
			})
			if err := cmp.Or(firstErr(cmds), ignoreNil(err)); err != nil {
				return n, fmt.Errorf("del: %w", err)
			}
			for _, d := range dels {
				n += int(d.Val())
			}
		}
		if next == 0 {
			return n, nil
		}
		cursor = next
	}
}

// globEscape quotes the glob metacharacters of a key prefix for SCAN MATCH.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
