package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"
)

const (
	// idBytes of randomness make a session ID: 256 bits, 43 characters of
	// unpadded base64url.
	idBytes = 32
	idLen   = 43
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
	// CacheTTL lets Get answer from a copy kept in this process for up to
	// this long, without a store round trip. Zero: no cache. With a store
	// shared between replicas (Redis), every replica hears every sign-out,
	// revocation and update through the store's pub/sub and drops its
	// copies; while that link is down or silent for 750ms the cache does not
	// answer. So an ended session is refused everywhere within a second,
	// whatever CacheTTL is. Close stops the link.
	CacheTTL time.Duration
	// Now is the clock of every rule here: expiry, touches, the cache, the
	// age of login states, refresh deadlines. Zero: time.Now.
	Now func() time.Time
	// Accounts turns on linked accounts (accounts.go). Zero: off.
	Accounts AccountsOptions
	// PendingLoginBytes bounds the bytes of every pending login in the
	// store, shared by all replicas on Redis; past it BeginLogin answers
	// ErrLoginsFull. Zero: 64 MiB.
	PendingLoginBytes int64
	// ClientPendingLoginBytes bounds one client's pending logins (one IPv4
	// address or IPv6 /64); past it BeginLogin answers ErrClientLogins.
	// Each login costs its client at least 8 KiB, so this also caps their
	// number. Zero: PendingLoginBytes/16.
	ClientPendingLoginBytes int64
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

	loginBytes       int64
	clientLoginBytes int64

	notify notifier // nil: the store is local to this process

	accounts    accountBackend // nil: accounts off (accounts.go)
	linkByEmail bool
	once        onceSet // single-use markers of a store without its own (once.go)
	cache       *cache  // nil: CacheTTL zero
	// watches end long-lived connections with their sessions (watch.go).
	watches    watchers
	listenOnce sync.Once
	stop       context.CancelFunc
	done       sync.WaitGroup
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

		loginBytes:       o.PendingLoginBytes,
		clientLoginBytes: o.ClientPendingLoginBytes,
	}
	if m.loginBytes == 0 {
		m.loginBytes = defaultLoginBytes
	}
	if m.clientLoginBytes == 0 {
		m.clientLoginBytes = m.loginBytes / clientShare
	}
	if m.now == nil {
		m.now = time.Now
	}
	switch {
	case m.lifetime < 0 || m.idle < 0 || m.touch < 0:
		return nil, errors.New("session manager: durations must not be negative")
	case m.touch >= m.idle:
		return nil, fmt.Errorf("session manager: touch interval %v must be shorter than idle timeout %v", m.touch, m.idle)
	case o.CacheTTL < 0:
		return nil, errors.New("session manager: cache ttl must not be negative")
	case m.loginBytes < 0 || m.clientLoginBytes <= 0:
		return nil, errors.New("session manager: pending login budgets must be positive")
	}
	m.notify, _ = o.Store.(notifier)
	if o.Accounts.Enabled {
		var err error
		if m.accounts, err = newAccountBackend(o.Store, o.Accounts); err != nil {
			return nil, fmt.Errorf("session manager: %w", err)
		}
		m.linkByEmail = o.Accounts.LinkByEmail
	}
	if o.CacheTTL > 0 {
		m.cache = newCache(o.CacheTTL, m.notify != nil, m.now)
		m.listen()
	}
	return m, nil
}

// Close stops listening for invalidations. The store stays open: its
// owner closes it. Close is safe to call more than once.
func (m *Manager) Close() error {
	m.listenOnce.Do(func() {}) // no subscription starts after Close
	if m.stop != nil {
		m.stop()
		m.done.Wait()
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Ping reports whether the store answers (readiness).
func (m *Manager) Ping(ctx context.Context) error {
	if err := m.store.Ping(ctx); err != nil {
		return fmt.Errorf("session ping: %w", err)
	}
	return nil
}

// Create starts a session from s (its identity, tokens, provider session
// ID, and the browser's User-Agent and IP, which are cut to 512 and 64
// bytes) under a new random ID with a new CSRF token, and deletes oldID, the browser's
// previous session, so an ID planted before sign-in never becomes signed
// in (session fixation). s itself is not modified.
func (m *Manager) Create(ctx context.Context, s *Session, oldID string) (*Session, error) {
	if s == nil || s.Provider == "" || s.Subject == "" {
		return nil, errors.New("session create: no provider identity")
	}
	ns := *s
	ns.ID = newToken()
	ns.CSRF = newToken()
	ns.UserAgent = truncate(ns.UserAgent, maxUserAgent)
	ns.IP = truncate(ns.IP, maxIP)
	now := m.now()
	ns.CreatedAt, ns.LastSeen = now, now
	if err := m.store.Save(ctx, &ns, min(m.idle, m.lifetime)); err != nil {
		return nil, fmt.Errorf("session create: %w", err)
	}
	if oldID != "" && validID(oldID) {
		err := m.store.Delete(ctx, oldID)
		if err == nil {
			err = m.invalidate(ctx, invSession+":"+oldID)
		}
		if err != nil {
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
//
// With CacheTTL set, a live session this replica loaded recently comes from
// the cache; a cached copy that looks expired is read again from the
// store, which may know a later LastSeen (another replica's touch).
func (m *Manager) Get(ctx context.Context, id string) (*Session, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	now := m.now()
	if m.cache != nil {
		if cs, ok := m.cache.get(id, now); ok && m.live(cs, now) {
			s := *cs
			return m.touched(ctx, &s, now)
		}
	}
	return m.load(ctx, id, now)
}

// Reload is Get without the cache: it always asks the store (and caches
// the answer). Use it where a stale copy would do harm, such as deciding
// whether a refresh token is still the current one.
func (m *Manager) Reload(ctx context.Context, id string) (*Session, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	return m.load(ctx, id, m.now())
}

// load reads id from the store, caches a copy, and applies the expiry and
// touch rules.
func (m *Manager) load(ctx context.Context, id string, now time.Time) (*Session, error) {
	var gen uint64
	if m.cache != nil {
		gen = m.cache.generation()
	}
	s, err := m.store.Load(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("session get: %w", err)
	}
	if !m.live(s, now) {
		// Best effort: the store's TTL removes it anyway.
		_ = m.store.Delete(ctx, id)
		return nil, ErrNotFound
	}
	if m.cache != nil {
		cp := *s
		m.cache.put(&cp, gen, now)
	}
	return m.touched(ctx, s, now)
}

// touched writes LastSeen back when it is TouchInterval old.
func (m *Manager) touched(ctx context.Context, s *Session, now time.Time) (*Session, error) {
	if now.Sub(s.LastSeen) < m.touch {
		return s, nil
	}
	if err := m.store.Touch(ctx, s.ID, now, m.ttl(s.CreatedAt, now, now)); err != nil {
		if m.cache != nil {
			m.cache.invalidate(invSession + ":" + s.ID)
		}
		return nil, fmt.Errorf("session get: touch: %w", err)
	}
	s.LastSeen = now
	if m.cache != nil {
		m.cache.touched(s.ID, now)
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
	// Other replicas must not keep serving the old tokens.
	if err := m.invalidate(ctx, invSession+":"+s.ID); err != nil {
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
	if err := m.invalidate(ctx, invSession+":"+id); err != nil {
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
	if err := m.invalidate(ctx, invUser+":"+user); err != nil {
		return n, fmt.Errorf("session end user: %w", err)
	}
	return n, nil
}

// EndAll deletes every session and reports how many.
func (m *Manager) EndAll(ctx context.Context) (int, error) {
	n, err := m.store.DeleteAll(ctx)
	if err != nil {
		return n, fmt.Errorf("session end all: %w", err)
	}
	if err := m.invalidate(ctx, invAll); err != nil {
		return n, fmt.Errorf("session end all: %w", err)
	}
	return n, nil
}

// invalidate drops msg's sessions from this replica's cache at once and,
// with a shared store, tells the other replicas. It publishes even without
// a local cache: other replicas may have one.
func (m *Manager) invalidate(ctx context.Context, msg string) error {
	if m.cache != nil {
		m.cache.invalidate(msg)
	}
	m.watches.invalidate(msg)
	if m.notify == nil {
		return nil
	}
	if err := m.notify.publishInvalidation(ctx, msg); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
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
