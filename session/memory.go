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

// MemoryOptions configures a Memory store. Pending logins are bounded in
// bytes by the quota each PutLoginState carries (ManagerOptions).
type MemoryOptions struct {
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
	now func() time.Time

	mu       sync.Mutex
	sessions map[string]*memSession
	users    map[string]map[string]struct{} // user → session IDs
	sids     map[string]map[string]struct{} // sidKey(provider, sid) → session IDs
	states   map[string]*list.Element       // state → element of order
	order    *list.List                     // *memState, oldest first
	locks    map[string]time.Time           // lock key → expiry (lock.go); nil until the first lock

	// stateBytes and clientBytes are what the pending states are charged
	// (loginCost), in all and by client.
	stateBytes  int64
	clientBytes map[string]int64

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type memSession struct {
	s   Session
	exp time.Time
}

type memState struct {
	key              string
	data             []byte
	exp              time.Time
	client           string
	cost, clientCost int64
}

func sidKey(provider, sid string) string { return provider + ":" + sid }

// NewMemory returns a Memory store and starts its janitor; Close stops it.
func NewMemory(o MemoryOptions) *Memory {
	if o.SweepInterval <= 0 {
		o.SweepInterval = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Memory{
		now:         o.Now,
		sessions:    make(map[string]*memSession),
		users:       make(map[string]map[string]struct{}),
		sids:        make(map[string]map[string]struct{}),
		states:      make(map[string]*list.Element),
		order:       list.New(),
		clientBytes: make(map[string]int64),
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
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
			m.dropStateLocked(el)
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
	unindex(m.users, e.s.User(), id)
	if e.s.SID != "" {
		unindex(m.sids, sidKey(e.s.Provider, e.s.SID), id)
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
	index(m.users, s.User(), s.ID)
	if s.SID != "" {
		index(m.sids, sidKey(s.Provider, s.SID), s.ID)
	}
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

// PutLoginState keeps a copy of data, charged to q's budgets. States past
// their TTL are dropped first; a pending one never is.
func (m *Memory) PutLoginState(_ context.Context, state string, data []byte, q LoginQuota) error {
	if err := checkQuota(state, data, q); err != nil {
		return fmt.Errorf("memory put login state: %w", err)
	}
	cost, clientCost := loginCost(state, data)
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if el, ok := m.states[state]; ok {
		m.dropStateLocked(el)
	}
	// One TTL for every state: the front of order expires first.
	for el := m.order.Front(); el != nil && !now.Before(el.Value.(*memState).exp); el = m.order.Front() {
		m.dropStateLocked(el)
	}
	if m.stateBytes+cost > q.Budget {
		return fmt.Errorf("memory put login state: %w", ErrLoginsFull)
	}
	if q.Client != "" && m.clientBytes[q.Client]+clientCost > q.ClientBudget {
		return fmt.Errorf("memory put login state: %w", ErrClientLogins)
	}
	st := &memState{key: state, data: slices.Clone(data), exp: now.Add(q.TTL), cost: cost}
	m.stateBytes += cost
	if q.Client != "" {
		st.client, st.clientCost = q.Client, clientCost
		m.clientBytes[q.Client] += clientCost
	}
	m.states[state] = m.order.PushBack(st)
	return nil
}

// dropStateLocked removes a pending state and gives back its charges.
func (m *Memory) dropStateLocked(el *list.Element) {
	st := el.Value.(*memState)
	m.order.Remove(el)
	delete(m.states, st.key)
	m.stateBytes -= st.cost
	if st.client != "" {
		if m.clientBytes[st.client] -= st.clientCost; m.clientBytes[st.client] <= 0 {
			delete(m.clientBytes, st.client)
		}
	}
}

// TakeLoginState returns and removes the state: the second call for the
// same state gets ErrNotFound.
func (m *Memory) TakeLoginState(_ context.Context, state string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.states[state]
	if !ok {
		return nil, ErrNotFound
	}
	m.dropStateLocked(el)
	st := el.Value.(*memState)
	if !m.now().Before(st.exp) {
		return nil, ErrNotFound
	}
	return st.data, nil
}

// DeleteLoginState drops a pending state.
func (m *Memory) DeleteLoginState(_ context.Context, state string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.states[state]; ok {
		m.dropStateLocked(el)
	}
	return nil
}

// pendingLoginBytes is what the pending states are charged (tests).
func (m *Memory) pendingLoginBytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stateBytes
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
