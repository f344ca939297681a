package session

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"
)

// What a signed-in user, an administrator or a provider may ask about
// sessions other than the browser's own: a user's sessions (the
// /oauth2/sessions page, sign-out everywhere), the sessions of a provider
// session (OIDC back-channel logout by sid), and every user (sessions list
// --all). The stores keep one index per user and per provider session.

// Limits on what a session records of the browser that signed in: enough
// to recognise a device, never an unbounded header.
const (
	maxUserAgent = 512
	maxIP        = 64
)

// UserSessions returns user's live sessions, oldest first. They carry
// tokens: a page shows only ID, CreatedAt, LastSeen, UserAgent and IP.
func (m *Manager) UserSessions(ctx context.Context, user string) ([]*Session, error) {
	ss, err := m.store.ListUser(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("session list user: %w", err)
	}
	return m.liveOnly(ss), nil
}

// EndUserSession ends session id only if it belongs to user: ErrNotFound
// for an unknown ID or another user's, so one user can never end (or
// learn of) another's session.
func (m *Manager) EndUserSession(ctx context.Context, user, id string) error {
	if !validID(id) {
		return ErrNotFound
	}
	s, err := m.store.Load(ctx, id)
	if err != nil {
		return fmt.Errorf("session end: %w", err)
	}
	if s.User() != user {
		return ErrNotFound
	}
	return m.End(ctx, id)
}

// providerSessions returns the live sessions signed in under the
// provider's session sid (the id_token's "sid"), oldest first.
func (m *Manager) providerSessions(ctx context.Context, provider, sid string) ([]*Session, error) {
	if provider == "" || sid == "" {
		return nil, nil
	}
	ss, err := m.store.ListSID(ctx, provider, sid)
	if err != nil {
		return nil, fmt.Errorf("session list sid: %w", err)
	}
	return m.liveOnly(ss), nil
}

// EndProviderSessions ends every session signed in under the provider's
// session sid, telling every replica, and reports how many.
func (m *Manager) EndProviderSessions(ctx context.Context, provider, sid string) (int, error) {
	ss, err := m.providerSessions(ctx, provider, sid)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, s := range ss {
		if err := m.End(ctx, s.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// Users returns every user with sessions, sorted ("google:1", "kakao:2").
// On Redis it scans every node: an administrator's command, not a request
// path. A user whose last session just expired may still be listed.
func (m *Manager) Users(ctx context.Context) ([]string, error) {
	us, err := m.store.ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("session list users: %w", err)
	}
	return us, nil
}

// liveOnly drops sessions past the Manager's expiry rules (a store's clock
// may lag).
func (m *Manager) liveOnly(ss []*Session) []*Session {
	now := m.now()
	out := ss[:0]
	for _, s := range ss {
		if m.live(s, now) {
			out = append(out, s)
		}
	}
	return out
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
