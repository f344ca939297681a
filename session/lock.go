package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Short-lived named locks, so that of several requests (or replicas) that
// find the same session's provider tokens about to expire, only one spends
// the refresh token. Kakao rotates refresh tokens and the old one then
// stops working: two refreshes racing with the same token would end the
// session. A lock is advisory and expires on its own, so a holder that
// dies never blocks anyone for longer than its TTL.

// checkLock rejects a lock no store can take.
func checkLock(key string, ttl time.Duration) error {
	switch {
	case key == "":
		return errors.New("lock without key")
	case ttl < time.Millisecond:
		return fmt.Errorf("ttl %v: must be at least 1ms", ttl)
	}
	return nil
}

// TryLock takes the lock named key for ttl unless someone holds it. It
// never waits: false means another caller holds the lock.
func (m *Memory) TryLock(_ context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkLock(key, ttl); err != nil {
		return false, fmt.Errorf("memory lock: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if exp, held := m.locks[key]; held && now.Before(exp) {
		return false, nil
	}
	if m.locks == nil {
		m.locks = make(map[string]time.Time)
	}
	m.locks[key] = now.Add(ttl)
	return true, nil
}

// Unlock releases the lock named key. Releasing a lock that is not held is
// not an error.
func (m *Memory) Unlock(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.locks, key)
	return nil
}

// lockTokens are the random values of the locks one Redis store holds:
// Unlock deletes a lock only while it still carries this store's value, so
// a lock that expired and was taken by another replica is left alone. The
// zero value is ready to use.
type lockTokens struct {
	mu sync.Mutex
	m  map[string]string
}

func (l *lockTokens) put(key, token string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[string]string)
	}
	l.m[key] = token
}

func (l *lockTokens) take(key string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.m[key]
	delete(l.m, key)
	return t, ok
}

// unlockScript deletes KEYS[1] only if it still holds ARGV[1]: GET and DEL
// must be one step, or the lock could expire and be taken in between.
var unlockScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

func (r *Redis) lockKey(key string) string { return r.prefix + "lock:" + key }

// TryLock runs SET {prefix}lock:{key} token NX PX ttl. One key per lock, so
// it works on Cluster; the TTL runs on the Redis server's clock.
func (r *Redis) TryLock(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkLock(key, ttl); err != nil {
		return false, fmt.Errorf("redis lock: %w", err)
	}
	token := newToken()
	k := r.lockKey(key)
	ok, err := r.c.SetNX(ctx, k, token, ttl).Result()
	if err != nil {
		return false, unavailable("lock", err)
	}
	if ok {
		r.locks.put(k, token)
	}
	return ok, nil
}

// Unlock releases a lock this store took, unless it has expired and
// someone else holds it now. Releasing a lock it does not hold is not an
// error.
func (r *Redis) Unlock(ctx context.Context, key string) error {
	k := r.lockKey(key)
	token, ok := r.locks.take(k)
	if !ok {
		return nil
	}
	if err := unlockScript.Run(ctx, r.c, []string{k}, token).Err(); err != nil && !errors.Is(err, redis.Nil) {
		// The lock expires by its TTL anyway.
		return unavailable("unlock", err)
	}
	return nil
}
