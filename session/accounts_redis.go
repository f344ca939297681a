package session

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisAccounts keeps accounts in Redis, next to the sessions, without
// TTLs:
//
//	{prefix}a:{sg_id}     hash: "c" created (Unix ms), "i:{identity}" linked
//	                      (Unix ms) per identity, "e" the e-mail index name
//	{prefix}ai:{identity} string: the owning sg_id (the truth of ownership)
//	{prefix}ae:{mac}      string: the sg_id holding that verified e-mail
//
// {mac} is an HMAC of the e-mail under a key derived from the secret, so
// the e-mail appears nowhere in Redis in clear. Like the sessions, every
// command touches one key (Lua scripts included), so Cluster needs no hash
// tags; a step that fails between two keys is repaired on the next read
// (see Manager.accountOf).
type redisAccounts struct{ r *Redis }

func (a redisAccounts) accountKey(id string) string { return a.r.prefix + "a:" + id }
func (a redisAccounts) ownerKey(ident string) string {
	return a.r.prefix + "ai:" + ident
}

// emailKeys are the index names of e-mail under the current secret first,
// then under each previous one (still found after a rotation).
func (a redisAccounts) emailKeys(email string) []string {
	keys := make([]string, 0, len(a.r.seal.macs))
	for _, k := range a.r.seal.macs {
		h := hmac.New(sha256.New, k)
		h.Write([]byte(email))
		keys = append(keys, a.r.prefix+"ae:"+base64.RawURLEncoding.EncodeToString(h.Sum(nil)))
	}
	return keys
}

func (a redisAccounts) owner(ctx context.Context, ident string) (string, error) {
	id, err := a.r.c.Get(ctx, a.ownerKey(ident)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", unavailable("account owner", err)
	}
	return id, nil
}

func (a redisAccounts) account(ctx context.Context, id string) (*Account, error) {
	m, err := a.r.c.HGetAll(ctx, a.accountKey(id)).Result()
	if err != nil {
		return nil, unavailable("account", err)
	}
	if len(m) == 0 {
		return nil, ErrNoAccount
	}
	acc := &Account{ID: id}
	if ms, err := strconv.ParseInt(m["c"], 10, 64); err == nil {
		acc.Created = time.UnixMilli(ms)
	}
	type linked struct {
		ident string
		at    int64
	}
	var ls []linked
	for k, v := range m {
		if ident, ok := strings.CutPrefix(k, "i:"); ok {
			at, _ := strconv.ParseInt(v, 10, 64)
			ls = append(ls, linked{ident, at})
		}
	}
	slices.SortFunc(ls, func(x, y linked) int {
		if c := cmp.Compare(x.at, y.at); c != 0 {
			return c
		}
		return cmp.Compare(x.ident, y.ident)
	})
	for _, l := range ls {
		acc.Identities = append(acc.Identities, l.ident)
	}
	return acc, nil
}

// create writes the account first and claims the identity second, so an
// owner key always names an account that exists: a replica that loses the
// claim, or sees the winner's claim, never finds a dangling link.
func (a redisAccounts) create(ctx context.Context, id, ident string, now time.Time) (bool, error) {
	ms := now.UnixMilli()
	if err := a.r.c.HSet(ctx, a.accountKey(id), "c", ms, "i:"+ident, ms).Err(); err != nil {
		return false, unavailable("account create", err)
	}
	ok, err := a.r.c.SetNX(ctx, a.ownerKey(ident), id, 0).Result()
	if err == nil && !ok {
		// Lost the race: the new ID was never handed out, drop it.
		err = a.r.c.Del(ctx, a.accountKey(id)).Err()
	}
	if err != nil {
		return false, unavailable("account create", err)
	}
	return ok, nil
}

func (a redisAccounts) release(ctx context.Context, id, ident string) error {
	if err := releaseScript.Run(ctx, a.r.c, []string{a.ownerKey(ident)}, id).Err(); err != nil {
		return unavailable("account release", err)
	}
	return nil
}

// linkScript adds the identity field only to an existing account.
var linkScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
return 1`)

func (a redisAccounts) link(ctx context.Context, id, ident string, now time.Time) error {
	if n, err := a.r.c.Exists(ctx, a.accountKey(id)).Result(); err != nil {
		return unavailable("account link", err)
	} else if n == 0 {
		return ErrNoAccount
	}
	ok, err := a.r.c.SetNX(ctx, a.ownerKey(ident), id, 0).Result()
	if err != nil {
		return unavailable("account link", err)
	}
	if !ok {
		cur, err := a.owner(ctx, ident)
		if err != nil {
			return err
		}
		if cur != id {
			return ErrIdentityTaken
		}
	}
	added, err := linkScript.Run(ctx, a.r.c, []string{a.accountKey(id)}, "i:"+ident, now.UnixMilli()).Int()
	if err != nil {
		return unavailable("account link", err)
	}
	if added == 0 {
		// The account went away meanwhile: give the identity back.
		_ = releaseScript.Run(ctx, a.r.c, []string{a.ownerKey(ident)}, id).Err()
		return ErrNoAccount
	}
	return nil
}

// unlinkScript removes one identity field; with ARGV[2] "1" also the last
// one, deleting the account. It answers -1 when the identity is not
// linked, 0 when it is the last and may not go, 1 when removed, 2 when the
// account was deleted (its "e" field is returned then too, by a second
// call).
var unlinkScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -1 end
local n = 0
for _, k in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(k, 1, 2) == 'i:' then n = n + 1 end
end
if n <= 1 then
  if ARGV[2] ~= '1' then return 0 end
  redis.call('DEL', KEYS[1])
  return 2
end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1`)

// releaseScript deletes a key only while it still holds ARGV[1].
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

func (a redisAccounts) unlink(ctx context.Context, id, ident string, allowLast bool) error {
	last := "0"
	if allowLast {
		last = "1"
	}
	// Read the e-mail index name first: a deleted account forgets it.
	email, err := a.r.c.HGet(ctx, a.accountKey(id), "e").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return unavailable("account unlink", err)
	}
	res, err := unlinkScript.Run(ctx, a.r.c, []string{a.accountKey(id)}, "i:"+ident, last).Int()
	if err != nil {
		return unavailable("account unlink", err)
	}
	switch res {
	case -1:
		return ErrNoAccount
	case 0:
		return ErrLastIdentity
	}
	if err := releaseScript.Run(ctx, a.r.c, []string{a.ownerKey(ident)}, id).Err(); err != nil {
		return unavailable("account unlink", err)
	}
	if res == 2 && email != "" {
		if err := releaseScript.Run(ctx, a.r.c, []string{email}, id).Err(); err != nil {
			return unavailable("account unlink", err)
		}
	}
	return nil
}

func (a redisAccounts) byEmail(ctx context.Context, email string) (string, error) {
	for _, k := range a.emailKeys(email) {
		id, err := a.r.c.Get(ctx, k).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return "", unavailable("account by email", err)
		}
		return id, nil
	}
	return "", nil
}

func (a redisAccounts) setEmail(ctx context.Context, id, email string) error {
	key := a.emailKeys(email)[0]
	ok, err := a.r.c.SetNX(ctx, key, id, 0).Result()
	if err != nil {
		return unavailable("account email", err)
	}
	if ok {
		if err := a.r.c.HSet(ctx, a.accountKey(id), "e", key).Err(); err != nil {
			return unavailable("account email", err)
		}
	}
	return nil
}

// String is for test failure messages.
func (a redisAccounts) String() string { return fmt.Sprintf("redis accounts under %q", a.r.prefix) }
