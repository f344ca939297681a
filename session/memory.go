package session

import (
	"cmp"
	"container/list"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// MemoryOptions configures a Memory store.
type MemoryOptions struct {
	// MaxLoginStates bounds pending login states across all browsers;
	// beyond it the oldest are dropped, so a flood of /oauth2/start cannot
	// exhaust memory. Zero: 100000.
	MaxLoginStates int
	// SweepInterval is how often the janitor removes expired entries.
	// Zero: 1m. Expiry is also checked on every read, so this only bounds
	// memory, not correctness.
	SweepInterval time.Duration
	// Now is the clock. Zero: time.Now.
	Now func() time.Time
}

// Memory is a Store for a single gateway process. Values live in maps
// guarded by one mutex; nothing is encrypted because nothing leaves the
// process.
type Memory struct {
	now       func() time.Time
	maxStates int

	mu       sync.Mutex
	sessions map[string]*memSession
	users    map[string]map[string]struct{} // user → session IDs
	states   map[string]*list.Element       // state → element of order
	order    *list.List                     // *memState, oldest first
	locks    map[string]time.Time           // lock key → expiry (lock.go); nil until the first lock

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type memSession struct {
	s   Session
	exp time.Time
}

type memState struct {
	key string
	st  LoginState
	exp time.Time
}

// NewMemory returns a Memory store and starts its janitor; Close stops it.
func NewMemory(o MemoryOptions) *Memory {
	if o.MaxLoginStates <= 0 {
		o.MaxLoginStates = 100000
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Memory{
		now:       o.Now,
		maxStates: o.MaxLoginStates,
		sessions:  make(map[string]*memSession),
		users:     make(map[string]map[string]struct{}),
		states:    make(map[string]*list.Element),
		order:     list.New(),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	go m.janitor(o.SweepInterval)
	return m
}

func (m *Memory) janitor(every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.sweep()
		}
	}
}

// sweep drops every expired session and login state.
func (m *Memory) sweep() {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for id, e := range m.sessions {
		if !now.Before(e.exp) {
			m.deleteLocked(id)
		}
	}
	for el := m.order.Front(); el != nil; {
		next := el.Next()
		if st := el.Value.(*memState); !now.Before(st.exp) {
			m.order.Remove(el)
			delete(m.states, st.key)
		}
		el = next
	}
}

// liveLocked returns the session with id unless it is missing or expired.
func (m *Memory) liveLocked(id string, now time.Time) (*memSession, bool) {
	e, ok := m.sessions[id]
	if !ok || !now.Before(e.exp) {
		return nil, false
	}
	return e, true
}

func (m *Memory) deleteLocked(id string) bool {
	e, ok := m.sessions[id]
	if !ok {
		return false
	}
	delete(m.sessions, id)
	user := e.s.User()
	if ids := m.users[user]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(m.users, user)
		}
	}
	return true
}

// Load returns a copy of the session, so callers may change it freely.
func (m *Memory) Load(_ context.Context, id string) (*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.liveLocked(id, m.now())
	if !ok {
		return nil, ErrNotFound
	}
	s := e.s
	return &s, nil
}

// Save stores a copy of s.
func (m *Memory) Save(_ context.Context, s *Session, ttl time.Duration) error {
	if err := checkSave(s, ttl); err != nil {
		return fmt.Errorf("memory save: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// A changed user (never expected) must not leave a stale index entry.
	m.deleteLocked(s.ID)
	m.sessions[s.ID] = &memSession{s: *s, exp: m.now().Add(ttl)}
	user := s.User()
	if m.users[user] == nil {
		m.users[user] = make(map[string]struct{})
	}
	m.users[user][s.ID] = struct{}{}
	return nil
}

// Touch records lastSeen and restarts the TTL; ErrNotFound when the session
// is gone.
func (m *Memory) Touch(_ context.Context, id string, lastSeen time.Time, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("memory touch: ttl %v: must be positive", ttl)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	e, ok := m.liveLocked(id, now)
	if !ok {
		return ErrNotFound
	}
	e.s.LastSeen = lastSeen
	e.exp = now.Add(ttl)
	return nil
}

// Delete removes one session.
func (m *Memory) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deleteLocked(id)
	return nil
}

// ListUser returns copies of the user's live sessions, oldest first.
func (m *Memory) ListUser(_ context.Context, user string) ([]*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var out []*Session
	for id := range m.users[user] {
		if e, ok := m.liveLocked(id, now); ok {
			s := e.s
			out = append(out, &s)
		}
	}
	sortSessions(out)
	return out, nil
}

// DeleteUser removes the user's sessions and counts the live ones.
func (m *Memory) DeleteUser(_ context.Context, user string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	n := 0
	for id := range m.users[user] {
		if _, ok := m.liveLocked(id, now); ok {
			n++
		}
		m.deleteLocked(id)
	}
	return n, nil
}

// DeleteAll removes every session and counts the live ones. Login states
// stay: they are not sessions.
func (m *Memory) DeleteAll(_ context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	n := 0
	for _, e := range m.sessions {
		if now.Before(e.exp) {
			n++
		}
	}
	clear(m.sessions)
	clear(m.users)
	return n, nil
}

// PutLoginState stores a copy of st; past MaxLoginStates the oldest pending
// state is dropped.
func (m *Memory) PutLoginState(_ context.Context, state string, st *LoginState, ttl time.Duration) error {
	if err := checkState(state, st, ttl); err != nil {
		return fmt.Errorf("memory put login state: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.states[state]; ok {
		m.order.Remove(el)
	}
	m.states[state] = m.order.PushBack(&memState{key: state, st: *st, exp: m.now().Add(ttl)})
	for m.order.Len() > m.maxStates {
		oldest := m.order.Front()
		m.order.Remove(oldest)
		delete(m.states, oldest.Value.(*memState).key)
	}
	return nil
}

// TakeLoginState returns and removes the state: the second call for the
// same state gets ErrNotFound.
func (m *Memory) TakeLoginState(_ context.Context, state string) (*LoginState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.states[state]
	if !ok {
		return nil, ErrNotFound
	}
	m.order.Remove(el)
	delete(m.states, state)
	e := el.Value.(*memState)
	if !m.now().Before(e.exp) {
		return nil, ErrNotFound
	}
	st := e.st
	return &st, nil
}

// DeleteLoginState drops a pending state.
func (m *Memory) DeleteLoginState(_ context.Context, state string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.states[state]; ok {
		m.order.Remove(el)
		delete(m.states, state)
	}
	return nil
}

// Ping always succeeds: memory is always there.
func (m *Memory) Ping(context.Context) error { return nil }

// Close stops the janitor. It is safe to call more than once.
func (m *Memory) Close() error {
	m.closeOnce.Do(func() { close(m.stop) })
	<-m.done
	return nil
}

// sortSessions orders sessions oldest first, then by ID, so listings are
// stable.
func sortSessions(ss []*Session) {
	slices.SortFunc(ss, func(a, b *Session) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// checkSave rejects what no store can keep; both stores share it.
func checkSave(s *Session, ttl time.Duration) error {
	switch {
	case s == nil || s.ID == "":
		return errors.New("session without id")
	case ttl <= 0:
		return fmt.Errorf("ttl %v: must be positive", ttl)
	}
	return nil
}

// checkState rejects a login state no store can keep.
func checkState(state string, st *LoginState, ttl time.Duration) error {
	switch {
	case state == "" || st == nil:
		return errors.New("login state without key or value")
	case ttl <= 0:
		return fmt.Errorf("ttl %v: must be positive", ttl)
	}
	return nil
}
