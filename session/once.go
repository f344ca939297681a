package session

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Single-use markers: a back-channel logout token's jti must be accepted
// once only, on whichever replica it reaches. With Redis the marker is a key
// set with NX and a TTL; with the memory store it is an entry in a bounded
// map that expires on the Manager's clock.

// maxOnceEntries bounds the memory store's markers. Markers live only as
// long as the token they guard could be accepted (minutes), so only a flood
// fills it; then new markers are refused (fail closed: a logout token
// refused now is sent again by its issuer) rather than old ones forgotten.
const maxOnceEntries = 100000

// ErrOnceFull means the memory store's single-use markers are full.
var ErrOnceFull = errors.New("session: single-use markers full")

// onceStore is a store that keeps single-use markers itself (Redis, shared
// by every replica).
type onceStore interface {
	markOnce(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// FirstUse records key until until and reports whether this is its first
// use: false means it was recorded before (a replay). key is hashed, so its
// length and content do not matter. A store failure wraps ErrUnavailable.
func (m *Manager) FirstUse(ctx context.Context, key string, until time.Time) (bool, error) {
	ttl := until.Sub(m.now())
	if ttl < time.Millisecond {
		ttl = time.Millisecond
	}
	sum := sha256.Sum256([]byte(key))
	k := base64.RawURLEncoding.EncodeToString(sum[:])
	if o, ok := m.store.(onceStore); ok {
		return o.markOnce(ctx, k, ttl)
	}
	return m.once.mark(k, m.now(), ttl)
}

func (r *Redis) markOnce(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := r.c.SetNX(ctx, r.prefix+"once:"+key, "1", ttl).Result()
	if err != nil {
		return false, unavailable("mark once", err)
	}
	return ok, nil
}

// onceSet is the in-process marker set. The zero value is ready.
type onceSet struct {
	mu  sync.Mutex
	exp map[string]time.Time
}

func (o *onceSet) mark(key string, now time.Time, ttl time.Duration) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e, ok := o.exp[key]; ok && now.Before(e) {
		return false, nil
	}
	if o.exp == nil {
		o.exp = make(map[string]time.Time)
	}
	if len(o.exp) >= maxOnceEntries {
		for k, e := range o.exp {
			if !now.Before(e) {
				delete(o.exp, k)
			}
		}
		if len(o.exp) >= maxOnceEntries {
			return false, fmt.Errorf("%w: %w", ErrUnavailable, ErrOnceFull)
		}
	}
	o.exp[key] = now.Add(ttl)
	return true, nil
}
