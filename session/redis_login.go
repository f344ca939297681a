package session

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Pending logins in Redis are bounded in bytes across every replica. Each
// quota (the store's, {prefix}lq, and each client's, {prefix}lq:{client})
// is one hash of per-minute buckets: a login is charged to the bucket of
// the minute it started, and the sum of the buckets a login can still be
// alive in is what is pending. A state lives LoginStateTTL, so buckets
// older than that (plus one minute for clock skew between replicas) are
// dropped. Taking or deleting a state gives its charge back to its bucket.
// One key per script call, so Cluster never answers CROSSSLOT.

// quotaBucket is the accounting granularity.
const quotaBucket = time.Minute

// chargeScript adds ARGV[2] bytes to bucket ARGV[1] of KEYS[1] unless the
// live buckets (newer than ARGV[1]-ARGV[4]) would then exceed ARGV[3];
// dropped buckets are deleted on the way. 1: charged, 0: refused.
var chargeScript = redis.NewScript(`
local bucket = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local sum = 0
local all = redis.call("HGETALL", KEYS[1])
for i = 1, #all, 2 do
	local b = tonumber(all[i])
	if b == nil or b <= bucket - window then
		redis.call("HDEL", KEYS[1], all[i])
	else
		sum = sum + tonumber(all[i + 1])
	end
end
if sum + cost > limit then
	return 0
end
redis.call("HINCRBY", KEYS[1], ARGV[1], cost)
redis.call("PEXPIRE", KEYS[1], ARGV[5])
return 1`)

// refundScript gives ARGV[2] bytes back to bucket ARGV[1] of KEYS[1], if
// the bucket is still there, never below zero.
var refundScript = redis.NewScript(`
local v = redis.call("HGET", KEYS[1], ARGV[1])
if v then
	local n = tonumber(v) - tonumber(ARGV[2])
	if n > 0 then
		redis.call("HSET", KEYS[1], ARGV[1], n)
	else
		redis.call("HDEL", KEYS[1], ARGV[1])
	end
end
return 0`)

func (r *Redis) stateKey(state string) string { return r.prefix + "ls:" + state }

func (r *Redis) quotaKey(client string) string {
	if client == "" {
		return r.prefix + "lq"
	}
	return r.prefix + "lq:" + client
}

// charge is one quota a pending state was charged to.
type charge struct {
	key    string
	bucket int64
	cost   int64
}

func (r *Redis) charge(ctx context.Context, c charge, limit int64, ttl time.Duration) (bool, error) {
	window := int64((ttl+quotaBucket-1)/quotaBucket) + 1
	keep := time.Duration(window+1) * quotaBucket
	n, err := chargeScript.Run(ctx, r.c, []string{c.key},
		c.bucket, c.cost, limit, window, keep.Milliseconds()).Int()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// refund gives charges back, best effort: a lost refund only makes the
// quota stricter until its bucket ages out.
func (r *Redis) refund(ctx context.Context, cs ...charge) {
	for _, c := range cs {
		_ = refundScript.Run(ctx, r.c, []string{c.key}, c.bucket, c.cost).Err()
	}
}

// PutLoginState charges the store's quota and then the client's, and
// stores the sealed state with its TTL. The charges travel inside the
// sealed value, so that taking the state can give them back.
func (r *Redis) PutLoginState(ctx context.Context, state string, data []byte, q LoginQuota) error {
	if err := checkQuota(state, data, q); err != nil {
		return fmt.Errorf("redis put login state: %w", err)
	}
	cost, clientCost := loginCost(state, data)
	bucket := q.At.Unix() / int64(quotaBucket/time.Second)
	all := charge{key: r.quotaKey(""), bucket: bucket, cost: cost}
	ok, err := r.charge(ctx, all, q.Budget, q.TTL)
	if err != nil {
		return unavailable("put login state", err)
	}
	if !ok {
		return fmt.Errorf("redis put login state: %w", ErrLoginsFull)
	}
	charges := []charge{all}
	if q.Client != "" {
		mine := charge{key: r.quotaKey(q.Client), bucket: bucket, cost: clientCost}
		ok, err := r.charge(ctx, mine, q.ClientBudget, q.TTL)
		if err != nil || !ok {
			r.refund(context.WithoutCancel(ctx), all)
			if err != nil {
				return unavailable("put login state", err)
			}
			return fmt.Errorf("redis put login state: %w", ErrClientLogins)
		}
		charges = append(charges, mine)
	}
	v := r.seal.seal("ls:"+state, appendCharges(nil, charges, data))
	if err := r.c.Set(ctx, r.stateKey(state), v, q.TTL).Err(); err != nil {
		r.refund(context.WithoutCancel(ctx), charges...)
		return unavailable("put login state", err)
	}
	return nil
}

// appendCharges prefixes data with the charges: a count, then for each the
// key, bucket and cost.
func appendCharges(b []byte, cs []charge, data []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(cs)))
	for _, c := range cs {
		b = binary.AppendUvarint(b, uint64(len(c.key)))
		b = append(b, c.key...)
		b = binary.AppendVarint(b, c.bucket)
		b = binary.AppendVarint(b, c.cost)
	}
	return append(b, data...)
}

func readCharges(b []byte) ([]charge, []byte, error) {
	d := decoder{b: b}
	n := d.uvarint()
	if n > 2 {
		return nil, nil, errCodec
	}
	cs := make([]charge, n)
	for i := range cs {
		cs[i].key = d.string()
		var k int
		cs[i].bucket, k = binary.Varint(d.b)
		if k <= 0 {
			return nil, nil, errCodec
		}
		d.b = d.b[k:]
		cs[i].cost, k = binary.Varint(d.b)
		if k <= 0 {
			return nil, nil, errCodec
		}
		d.b = d.b[k:]
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	return cs, d.b, nil
}

// TakeLoginState reads and deletes the state with GETDEL: one key, atomic,
// so of two concurrent callbacks with the same state exactly one wins.
func (r *Redis) TakeLoginState(ctx context.Context, state string) ([]byte, error) {
	b, err := r.c.GetDel(ctx, r.stateKey(state)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redis take login state: %w", ErrNotFound)
	}
	if err != nil {
		return nil, unavailable("take login state", err)
	}
	pt, err := r.seal.open("ls:"+state, b)
	if err != nil {
		return nil, fmt.Errorf("redis take login state: %w: %w", ErrNotFound, err)
	}
	cs, data, err := readCharges(pt)
	if err != nil {
		return nil, fmt.Errorf("redis take login state: %w: bad encoding", ErrNotFound)
	}
	r.refund(context.WithoutCancel(ctx), cs...)
	return data, nil
}

// DeleteLoginState drops a pending state and gives its charges back.
func (r *Redis) DeleteLoginState(ctx context.Context, state string) error {
	_, err := r.TakeLoginState(ctx, state)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}
