package session

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Names only the tests need, kept out of the package's API.

// AccountOf returns the gateway user owning identity, or nil when none.
// The gateway itself only ever needs the account of the identity signing
// in (SignInAccount), so outside tests nothing asks this question.
func (m *Manager) AccountOf(ctx context.Context, identity string) (*Account, error) {
	if m.accounts == nil {
		return nil, ErrAccountsOff
	}
	return m.accountOf(ctx, identity)
}

// Client returns the Redis store's client, for tests that look at or
// tamper with the keys behind the store's back.
func (r *Redis) Client() redis.UniversalClient { return r.c }
