package session

import (
	"context"
	"slices"
)

// Memory's indexes: sessions by user and by provider session, listed and deleted in bulk.

func index(idx map[string]map[string]struct{}, key, id string) {
	if idx[key] == nil {
		idx[key] = make(map[string]struct{})
	}
	idx[key][id] = struct{}{}
}

func unindex(idx map[string]map[string]struct{}, key, id string) {
	if ids := idx[key]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(idx, key)
		}
	}
}

// ListUser returns copies of the user's live sessions, oldest first.
func (m *Memory) ListUser(_ context.Context, user string) ([]*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.listLocked(m.users[user]), nil
}

// ListSID returns copies of the live sessions with that provider session.
func (m *Memory) ListSID(_ context.Context, provider, sid string) ([]*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.listLocked(m.sids[sidKey(provider, sid)]), nil
}

func (m *Memory) listLocked(ids map[string]struct{}) []*Session {
	now := m.now()
	var out []*Session
	for id := range ids {
		if e, ok := m.liveLocked(id, now); ok {
			s := e.s
			out = append(out, &s)
		}
	}
	sortSessions(out)
	return out
}

// ListUsers returns the users with a live session, sorted.
func (m *Memory) ListUsers(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var out []string
	for user, ids := range m.users {
		for id := range ids {
			if _, ok := m.liveLocked(id, now); ok {
				out = append(out, user)
				break
			}
		}
	}
	slices.Sort(out)
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
	clear(m.sids)
	return n, nil
}
