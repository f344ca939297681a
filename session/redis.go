package session

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Hash fields of a session key. The last-seen time is kept outside the
// sealed blob so that Touch need not read, decrypt and rewrite it; neither it
// nor the user key (already visible in the index key's name) is secret.
const (
	fieldData = "d" // sealed Session (codec.go)
	fieldLast = "l" // LastSeen, Unix milliseconds
	fieldUser = "u" // Session.User(), to find the index on Touch and Delete
	fieldSID  = "x" // sidKey(Provider, SID) when SID is set, likewise
)

// RedisOptions configures a Redis store. One address means a standalone
// server; MasterName set means Sentinel (and Addrs are the sentinels);
// several addresses without MasterName mean Cluster.
type RedisOptions struct {
	Addrs      []string
	MasterName string
	// Username and Password authenticate to the data nodes; on Sentinel,
	// SentinelUsername and SentinelPassword to the sentinels (zero: no
	// AUTH). Sentinel credentials without MasterName are an error.
	Username         string
	Password         string
	SentinelUsername string
	SentinelPassword string
	// DB selects the database; Cluster has only 0, so another is an error.
	DB int
	// KeyPrefix starts every key. Zero: "socialgate:".
	KeyPrefix string
	// TLS nil means plain TCP. It applies to every connection: data
	// nodes, sentinels, and the cluster nodes found through the seeds.
	TLS *tls.Config
	// PoolSize zero: the go-redis default (10 per CPU).
	PoolSize int
	// DialTimeout, ReadTimeout, WriteTimeout bound every network step, so
	// no call hangs on a dead server. Zero: 2s, 1s, 1s.
	DialTimeout  time.Duration
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// Secret (required, at least 32 bytes) encrypts values at rest;
	// PreviousSecrets still decrypt (rotation).
	Secret          []byte
	PreviousSecrets [][]byte
	// Client, when set, is used instead of building one from the fields
	// above (tests, or a caller that shares a client). Close leaves it open.
	Client redis.UniversalClient
	// Now is accepted for symmetry with MemoryOptions. Expiry runs on the
	// Redis server's clock (key TTLs), so nothing reads it yet. Zero:
	// time.Now.
	Now func() time.Time
}

// Redis is a Store on Redis standalone, Sentinel or Cluster.
//
// Keys: {prefix}s:{id} is a hash (fields d, l, u, x) with TTL ttl;
// {prefix}u:{user} is a set of session IDs whose TTL is the longest of its
// sessions' TTLs (stale IDs are pruned lazily); {prefix}sid:{provider}:{sid}
// likewise for the provider's session ID; {prefix}ls:{state} is a sealed
// login state and {prefix}lq, {prefix}lq:{client} its byte accounting
// (redis_login.go). No command spans two keys, so Cluster never answers
// CROSSSLOT; several commands share a round trip through pipelines, which
// go-redis splits by slot. It needs Redis 7.0 or later (EXPIRE NX/GT).
type Redis struct {
	c      redis.UniversalClient
	own    bool
	prefix string
	seal   *sealer
	locks  lockTokens // refresh locks held (lock.go)
}

// NewRedis builds the store. It does not contact Redis: call Ping.
func NewRedis(o RedisOptions) (*Redis, error) {
	seal, err := newSealer(o.Secret, o.PreviousSecrets)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	r := &Redis{c: o.Client, prefix: cmp.Or(o.KeyPrefix, "socialgate:"), seal: seal}
	if r.c != nil {
		return r, nil
	}
	uo, err := universalOptions(o)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	r.c = redis.NewUniversalClient(uo)
	r.own = true
	return r, nil
}

func (r *Redis) sessionKey(id string) string  { return r.prefix + "s:" + id }
func (r *Redis) userKey(user string) string   { return r.prefix + "u:" + user }
func (r *Redis) sidIndexKey(sk string) string { return r.prefix + "sid:" + sk }

// unavailable wraps a Redis failure. go-redis errors name commands and
// addresses, never the values sent.
func unavailable(op string, err error) error {
	return fmt.Errorf("redis %s: %w: %w", op, ErrUnavailable, err)
}

// firstErr is the first failure among cmds; redis.Nil (a missing key or
// field) is an answer, not a failure.
func firstErr(cmds []redis.Cmder) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}

// indexTTL rounds ttl up to whole seconds: the index must never expire
// before the sessions it lists.
func indexTTL(ttl time.Duration) time.Duration {
	return (ttl + time.Second - 1).Truncate(time.Second)
}

// Load reads the session in one HGETALL.
func (r *Redis) Load(ctx context.Context, id string) (*Session, error) {
	m, err := r.c.HGetAll(ctx, r.sessionKey(id)).Result()
	if err != nil {
		return nil, unavailable("load", err)
	}
	s, err := r.decode(id, m)
	if err != nil {
		return nil, fmt.Errorf("redis load: %w", err)
	}
	return s, nil
}

// decode opens a session hash. Anything that does not open (a rotated-out
// secret, tampering, a value moved from another key) reads as ErrNotFound:
// the user signs in again.
func (r *Redis) decode(id string, m map[string]string) (*Session, error) {
	d, ok := m[fieldData]
	if !ok {
		return nil, ErrNotFound
	}
	pt, err := r.seal.open("s:"+id, []byte(d))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	s := new(Session)
	if err := decodeSession(pt, s); err != nil {
		return nil, fmt.Errorf("%w: bad session encoding", ErrNotFound)
	}
	s.ID = id
	if ms, err := strconv.ParseInt(m[fieldLast], 10, 64); err == nil {
		s.LastSeen = time.UnixMilli(ms)
	}
	return s, nil
}

// Save writes the session hash and adds it to the user's index, in one
// round trip.
func (r *Redis) Save(ctx context.Context, s *Session, ttl time.Duration) error {
	if err := checkSave(s, ttl); err != nil {
		return fmt.Errorf("redis save: %w", err)
	}
	data := encodeSession(nil, s)
	key := r.sessionKey(s.ID)
	fields := []any{
		fieldData, r.seal.seal("s:"+s.ID, data),
		fieldLast, s.LastSeen.UnixMilli(),
		fieldUser, s.User()}
	indexes := []string{r.userKey(s.User())}
	if s.SID != "" {
		sk := sidKey(s.Provider, s.SID)
		fields = append(fields, fieldSID, sk)
		indexes = append(indexes, r.sidIndexKey(sk))
	}
	cmds, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, fields...)
		if s.SID == "" {
			p.HDel(ctx, key, fieldSID)
		}
		p.PExpire(ctx, key, ttl)
		for _, ik := range indexes {
			p.SAdd(ctx, ik, s.ID)
			// NX gives a new index a TTL; GT only ever lengthens it, so a
			// short-lived session cannot cut the index under a longer one.
			p.ExpireNX(ctx, ik, indexTTL(ttl))
			p.ExpireGT(ctx, ik, indexTTL(ttl))
		}
		return nil
	})
	if err := cmp.Or(firstErr(cmds), ignoreNil(err)); err != nil {
		return unavailable("save", err)
	}
	return nil
}

// Touch records lastSeen and extends the TTLs of the session and of its
// user's index, without rewriting the sealed data.
func (r *Redis) Touch(ctx context.Context, id string, lastSeen time.Time, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("redis touch: ttl %v: must be positive", ttl)
	}
	key := r.sessionKey(id)
	var added *redis.IntCmd
	var idx *redis.SliceCmd
	cmds, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		added = p.HSet(ctx, key, fieldLast, lastSeen.UnixMilli())
		p.PExpire(ctx, key, ttl)
		idx = p.HMGet(ctx, key, fieldUser, fieldSID)
		return nil
	})
	if err := cmp.Or(firstErr(cmds), ignoreNil(err)); err != nil {
		return unavailable("touch", err)
	}
	if added.Val() == 1 {
		// The field was new, so the key was gone (expired or deleted) and
		// HSET just made a stray hash: remove it.
		if err := r.c.Del(ctx, key).Err(); err != nil {
			return unavailable("touch", err)
		}
		return fmt.Errorf("redis touch: %w", ErrNotFound)
	}
	ikeys := r.indexKeys(idx.Val())
	if len(ikeys) == 0 {
		return nil
	}
	cmds, err = r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, ik := range ikeys {
			p.ExpireGT(ctx, ik, indexTTL(ttl))
		}
		return nil
	})
	if err := cmp.Or(firstErr(cmds), ignoreNil(err)); err != nil {
		return unavailable("touch", err)
	}
	return nil
}

// indexKeys are the index keys named by a session hash's fields u and x,
// as HMGET returned them.
func (r *Redis) indexKeys(vals []any) []string {
	var out []string
	if len(vals) == 2 {
		if u, _ := vals[0].(string); u != "" {
			out = append(out, r.userKey(u))
		}
		if sk, _ := vals[1].(string); sk != "" {
			out = append(out, r.sidIndexKey(sk))
		}
	}
	return out
}

// Delete removes one session and its index entry.
func (r *Redis) Delete(ctx context.Context, id string) error {
	key := r.sessionKey(id)
	var idx *redis.SliceCmd
	cmds, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		idx = p.HMGet(ctx, key, fieldUser, fieldSID)
		p.Del(ctx, key)
		return nil
	})
	if err := cmp.Or(firstErr(cmds), ignoreNil(err)); err != nil {
		return unavailable("delete", err)
	}
	ikeys := r.indexKeys(idx.Val())
	if len(ikeys) == 0 {
		return nil
	}
	cmds, err = r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, ik := range ikeys {
			p.SRem(ctx, ik, id)
		}
		return nil
	})
	if err := cmp.Or(firstErr(cmds), ignoreNil(err)); err != nil {
		return unavailable("delete", err)
	}
	return nil
}

func ignoreNil(err error) error {
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}

// Ping sends PING.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.c.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Close closes the client if NewRedis built it.
func (r *Redis) Close() error {
	if !r.own {
		return nil
	}
	if err := r.c.Close(); err != nil {
		return fmt.Errorf("redis close: %w", err)
	}
	return nil
}
