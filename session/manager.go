package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

const (
	// idBytes of randomness make a session ID: 256 bits, 43 characters of
	// unpadded base64url.
	idBytes = 32
	idLen   = 43

	loginStateTTL = 10 * time.Minute
)

// ManagerOptions configures a Manager.
type ManagerOptions struct {
	// Store keeps the sessions. Required.
	Store Store
	// Lifetime is the absolute limit from sign-in. Zero: 168h.
	Lifetime time.Duration
	// IdleTimeout ends a session unused for this long. Zero: 24h.
	IdleTimeout time.Duration
	// TouchInterval is how often, at most, a request writes LastSeen back
	// to the store; between writes the idle clock is up to this much behind.
	// Zero: 1m. Must be shorter than IdleTimeout.
	TouchInterval time.Duration
	// Now is the clock. Zero: time.Now.
	Now func() time.Time
}

// Manager applies the session rules on top of a Store: unguessable IDs, a
// new ID at every sign-in, absolute and idle expiry with store TTLs to
// match, and throttled LastSeen writes.
type Manager struct {
	store    Store
	lifetime time.Duration
	idle     time.Duration
	touch    time.Duration
	now      func() time.Time
}

// NewManager checks o and fills in the defaults.
func NewManager(o ManagerOptions) (*Manager, error) {
	if o.Store == nil {
		return nil, errors.New("session manager: no store")
	}
	m := &Manager{
		store:    o.Store,
		lifetime: orDefault(o.Lifetime, 168*time.Hour),
		idle:     orDefault(o.IdleTimeout, 24*time.Hour),
		touch:    orDefault(o.TouchInterval, time.Minute),
		now:      o.Now,
	}
	if m.now == nil {
		m.now = time.Now
	}
	switch {
	case m.lifetime < 0 || m.idle < 0 || m.touch < 0:
		return nil, errors.New("session manager: durations must not be negative")
	case m.touch >= m.idle:
		return nil, fmt.Errorf("session manager: touch interval %v must be shorter than idle timeout %v", m.touch, m.idle)
	}
	return m, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Store returns the underlying store.
func (m *Manager) Store() Store { return m.store }

// LoginStateTTL is how long a started login waits for its callback.
func (m *Manager) LoginStateTTL() time.Duration { return loginStateTTL }

// Create starts a session from s (its identity and tokens) under a new
// random ID with a new CSRF token, and deletes oldID, the browser's
// previous session, so an ID planted before sign-in never becomes signed
// in (session fixation). s itself is not modified.
func (m *Manager) Create(ctx context.Context, s *Session, oldID string) (*Session, error) {
	if s == nil || s.Provider == "" || s.Subject == "" {
		return nil, errors.New("session create: no provider identity")
	}
	ns := *s
	ns.ID = newToken()
	ns.CSRF = newToken()
	now := m.now()
	ns.CreatedAt, ns.LastSeen = now, now
	if err := m.store.Save(ctx, &ns, min(m.idle, m.lifetime)); err != nil {
		return nil, fmt.Errorf("session create: %w", err)
	}
	if oldID != "" && validID(oldID) {
		if err := m.store.Delete(ctx, oldID); err != nil {
			// Do not hand out a session while the old one may live on.
			_ = m.store.Delete(ctx, ns.ID)
			return nil, fmt.Errorf("session create: delete old: %w", err)
		}
	}
	return &ns, nil
}

// Get returns the live session with id, or ErrNotFound when the ID is
// malformed (the store is not asked), unknown, or expired. An expired
// session is also deleted. When LastSeen is older than TouchInterval it is
// written back and the TTL renewed. Store failures wrap ErrUnavailable.
func (m *Manager) Get(ctx context.Context, id string) (*Session, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	s, err := m.store.Load(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("session get: %w", err)
	}
	now := m.now()
	if !m.live(s, now) {
		// Best effort: the store's TTL removes it anyway.
		_ = m.store.Delete(ctx, id)
		return nil, ErrNotFound
	}
	if now.Sub(s.LastSeen) >= m.touch {
		if err := m.store.Touch(ctx, id, now, m.ttl(s.CreatedAt, now, now)); err != nil {
			return nil, fmt.Errorf("session get: touch: %w", err)
		}
		s.LastSeen = now
	}
	return s, nil
}

// Update writes s back (after a token refresh, say) with the TTL its
// expiry rules leave it; ErrNotFound when it has already expired.
func (m *Manager) Update(ctx context.Context, s *Session) error {
	if s == nil || !validID(s.ID) {
		return ErrNotFound
	}
	now := m.now()
	if !m.live(s, now) {
		return ErrNotFound
	}
	if err := m.store.Save(ctx, s, m.ttl(s.CreatedAt, s.LastSeen, now)); err != nil {
		return fmt.Errorf("session update: %w", err)
	}
	return nil
}

// End deletes one session (sign-out). Ending a malformed or unknown ID is
// not an error.
func (m *Manager) End(ctx context.Context, id string) error {
	if !validID(id) {
		return nil
	}
	if err := m.store.Delete(ctx, id); err != nil {
		return fmt.Errorf("session end: %w", err)
	}
	return nil
}

// EndUser deletes every session of user ("kakao:123") and reports how many.
func (m *Manager) EndUser(ctx context.Context, user string) (int, error) {
	n, err := m.store.DeleteUser(ctx, user)
	if err != nil {
		return n, fmt.Errorf("session end user: %w", err)
	}
	return n, nil
}

// live reports whether s is within both its absolute lifetime and its idle
// timeout at now.
func (m *Manager) live(s *Session, now time.Time) bool {
	return now.Before(s.CreatedAt.Add(m.lifetime)) && now.Before(s.LastSeen.Add(m.idle))
}

// ttl is how long the store should keep a session created at created and
// last seen at seen: until the earlier of idle and absolute expiry.
func (m *Manager) ttl(created, seen, now time.Time) time.Duration {
	end := created.Add(m.lifetime)
	if idle := seen.Add(m.idle); idle.Before(end) {
		end = idle
	}
	return end.Sub(now)
}

// newToken returns 256 random bits, base64url without padding.
func newToken() string {
	b := make([]byte, idBytes)
	// crypto/rand.Read never fails (Go 1.24+): it crashes the program instead.
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validID reports whether id has the shape newToken gives, so that garbage
// from a cookie never reaches the store.
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
