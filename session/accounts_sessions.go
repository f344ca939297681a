package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// The sessions of a person: with accounts every session of the gateway
// user, whichever linked identity signed it in, kept in step when the
// identities change; without, the sessions of one provider identity.

// syncAccount writes the account's current identities into every session
// of the user, so the identity headers follow a link or unlink at once, on
// every replica (Update publishes the change).
func (m *Manager) syncAccount(ctx context.Context, id string) (*Account, error) {
	acc, err := m.accounts.account(ctx, id)
	if err != nil {
		return nil, accountsErr(err)
	}
	sessions, err := m.AccountSessions(ctx, acc)
	if err != nil {
		return nil, err
	}
	for _, s := range sessions {
		if slices.Equal(s.Identities, acc.Identities) {
			continue
		}
		s.Identities = slices.Clone(acc.Identities)
		if err := m.Update(ctx, s); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	return acc, nil
}

// AccountSessions returns the live sessions of every identity of acc that
// belong to acc, oldest first (past the Manager's expiry rules: not live,
// even if the store still holds them, as UserSessions).
func (m *Manager) AccountSessions(ctx context.Context, acc *Account) ([]*Session, error) {
	var out []*Session
	for _, ident := range acc.Identities {
		ss, err := m.store.ListUser(ctx, ident)
		if err != nil {
			return nil, fmt.Errorf("session accounts: %w", err)
		}
		for _, s := range ss {
			if s.Account == acc.ID {
				out = append(out, s)
			}
		}
	}
	out = m.liveOnly(out)
	sortSessions(out)
	return out, nil
}

// OwnSessions returns the sessions of cur's person, oldest first: with
// accounts every session of cur's gateway user, whichever identity signed
// it in; without, every session of cur's provider identity.
func (m *Manager) OwnSessions(ctx context.Context, cur *Session) ([]*Session, error) {
	if cur.Account != "" && m.accounts != nil {
		acc, err := m.Account(ctx, cur.Account)
		if err != nil {
			return nil, err
		}
		return m.AccountSessions(ctx, acc)
	}
	return m.UserSessions(ctx, cur.User())
}

// EndOwnSessions ends every session of cur's person (see OwnSessions), on
// every replica, and reports how many ended: sign-out everywhere. With
// accounts that is every identity of the gateway user, not only the one
// cur signed in with.
func (m *Manager) EndOwnSessions(ctx context.Context, cur *Session) (int, error) {
	if cur.Account != "" && m.accounts != nil {
		acc, err := m.Account(ctx, cur.Account)
		if err != nil {
			return 0, err
		}
		return m.EndAccount(ctx, acc)
	}
	return m.EndUser(ctx, cur.User())
}

// EndAccount ends every session of every identity of acc, on every
// replica, and reports how many ended.
func (m *Manager) EndAccount(ctx context.Context, acc *Account) (int, error) {
	n := 0
	for _, ident := range acc.Identities {
		k, err := m.EndUser(ctx, ident)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// EndOwnSession ends session id if it is one of cur's person's sessions
// (see OwnSessions); ErrNotFound otherwise, so nobody ends, or learns of,
// another person's session.
func (m *Manager) EndOwnSession(ctx context.Context, cur *Session, id string) error {
	if !validID(id) {
		return ErrNotFound
	}
	s, err := m.store.Load(ctx, id)
	if err != nil {
		return fmt.Errorf("session end: %w", err)
	}
	if cur.Account == "" || s.Account != cur.Account {
		// Without accounts, the index's own rule: the same identity.
		return m.EndUserSession(ctx, cur.User(), id)
	}
	return m.End(ctx, id)
}
