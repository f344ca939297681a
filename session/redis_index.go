package session

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// scanCount is the SCAN page size for DeleteAll.
const scanCount = 500

// ListUser returns the user's live sessions, oldest first. IDs in the index
// whose session expired are removed from it on the way.
func (r *Redis) ListUser(ctx context.Context, user string) ([]*Session, error) {
	return r.listIndex(ctx, r.userKey(user), func(s *Session) bool { return s.User() == user })
}

// ListSID returns the live sessions with that provider session, oldest
// first, pruning the index like ListUser.
func (r *Redis) ListSID(ctx context.Context, provider, sid string) ([]*Session, error) {
	return r.listIndex(ctx, r.sidIndexKey(sidKey(provider, sid)), func(s *Session) bool {
		return s.Provider == provider && s.SID == sid
	})
}

// listIndex reads the sessions an index set names: SMEMBERS, then one
// pipelined HGETALL per session (go-redis splits the pipeline by slot on
// Cluster). Entries that no longer open or no longer belong are pruned.
func (r *Redis) listIndex(ctx context.Context, ikey string, belongs func(*Session) bool) ([]*Session, error) {
	ids, err := r.c.SMembers(ctx, ikey).Result()
	if err != nil {
		return nil, unavailable("list index", err)
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
		return nil, unavailable("list index", err)
	}
	var out []*Session
	var stale []any
	for i, id := range ids {
		s, err := r.decode(id, gets[i].Val())
		if err != nil || !belongs(s) {
			stale = append(stale, id)
			continue
		}
		out = append(out, s)
	}
	if len(stale) > 0 {
		// Best effort: a failed prune is retried on the next listing.
		_ = r.c.SRem(ctx, ikey, stale...).Err()
	}
	sortSessions(out)
	return out, nil
}

// ListUsers scans for user indexes on every node (every master on
// Cluster, since SCAN covers one node only). An index lives as long as its
// longest session's TTL, so a user may be listed with no live session.
func (r *Redis) ListUsers(ctx context.Context) ([]string, error) {
	pattern := globEscape(r.prefix) + "u:*"
	var (
		mu  sync.Mutex
		out []string
	)
	each := func(ctx context.Context, c redis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, pattern, scanCount).Result()
			if err != nil {
				return fmt.Errorf("scan: %w", err)
			}
			mu.Lock()
			for _, k := range keys {
				out = append(out, strings.TrimPrefix(k, r.prefix+"u:"))
			}
			mu.Unlock()
			if next == 0 {
				return nil
			}
			cursor = next
		}
	}
	if err := r.forEachNode(ctx, each); err != nil {
		return nil, unavailable("list users", err)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// forEachNode runs f on every master of a Cluster, or once on the client.
func (r *Redis) forEachNode(ctx context.Context, f func(context.Context, redis.Cmdable) error) error {
	if cc, ok := r.c.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return f(ctx, c) })
	}
	return f(ctx, r.c)
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
	sids := globEscape(r.prefix) + "sid:*"
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
		if _, err = scanDelete(ctx, c, users); err != nil {
			return err
		}
		_, err = scanDelete(ctx, c, sids)
		return err
	}
	if err := r.forEachNode(ctx, each); err != nil {
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
