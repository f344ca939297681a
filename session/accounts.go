package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Linked accounts: a gateway user ("sg_" + 128 random bits) owns one or more
// provider identities ("kakao:123", "google:1101…"). The identity → user
// link is the truth of ownership and is claimed atomically, so an identity
// belongs to at most one user and is never moved: linking an identity that
// another user owns is refused. The accounts live in the store's backend
// (Redis keys next to the sessions; for the memory store a file, so a
// restart keeps them) and never expire.

var (
	// ErrIdentityTaken means the identity is linked to another user.
	ErrIdentityTaken = errors.New("session: identity is linked to another user")
	// ErrLastIdentity means unlinking would leave the user without a way
	// to sign in.
	ErrLastIdentity = errors.New("session: cannot unlink the last identity")
	// ErrNoAccount means no such gateway user (deleted meanwhile).
	ErrNoAccount = errors.New("session: no such account")
	// ErrAccountsOff means accounts are not enabled.
	ErrAccountsOff = errors.New("session: accounts are not enabled")
)

// AccountIDPrefix starts every gateway user ID.
const AccountIDPrefix = "sg_"

// Account is a gateway user.
type Account struct {
	ID string
	// Identities are the linked "provider:subject" values, oldest link first.
	Identities []string
	Created    time.Time
}

// has reports whether identity is linked to a.
func (a *Account) has(identity string) bool { return slices.Contains(a.Identities, identity) }

// AccountsOptions turns accounts on.
type AccountsOptions struct {
	// Enabled turns accounts on. Zero: off, every other method of the
	// accounts API answers ErrAccountsOff.
	Enabled bool
	// LinkByEmail joins a first login to the user who already has the same
	// e-mail, when the provider marks it verified (SignInLogin.EmailVerified).
	LinkByEmail bool
	// File keeps the accounts of a memory store across restarts; required
	// with the memory store. Ignored with Redis, which keeps them itself.
	File string
}

// SignInLogin is what a provider login says about the person.
type SignInLogin struct {
	Identity      string // "provider:subject"
	Email         string
	EmailVerified bool
}

// accountBackend keeps accounts; redisAccounts and fileAccounts implement
// it. Every method is atomic on its own; callers compose them so that a
// crash in between leaves nothing a later call cannot repair.
type accountBackend interface {
	// owner returns the account ID owning identity, "" if none.
	owner(ctx context.Context, identity string) (string, error)
	// account returns the account, or ErrNoAccount.
	account(ctx context.Context, id string) (*Account, error)
	// create makes account id owning identity; false when identity is
	// owned meanwhile (nothing is created then).
	create(ctx context.Context, id, identity string, now time.Time) (bool, error)
	// link claims identity for id; ErrIdentityTaken when another owns it,
	// ErrNoAccount when id does not exist.
	link(ctx context.Context, id, identity string, now time.Time) error
	// unlink removes identity from id; ErrLastIdentity when it is the last
	// one unless allowLast, which then deletes the account.
	unlink(ctx context.Context, id, identity string, allowLast bool) error
	// release drops identity's owner link if it still names id (an
	// account that no longer exists).
	release(ctx context.Context, id, identity string) error
	// byEmail returns the account holding the verified e-mail, "" if none.
	byEmail(ctx context.Context, email string) (string, error)
	// setEmail records the verified e-mail for id unless another account
	// holds it already.
	setEmail(ctx context.Context, id, email string) error
}

// newAccountID returns "sg_" + 128 random bits in base64url.
func newAccountID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (Go 1.24+)
	return AccountIDPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// normEmail is the form e-mails are compared in: the whole address
// lower-cased (ASCII only, as everywhere in the gateway) and trimmed.
func normEmail(e string) string {
	e = strings.TrimSpace(e)
	b := []byte(e)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// AccountsEnabled reports whether accounts are on.
func (m *Manager) AccountsEnabled() bool { return m.accounts != nil }

// SignInAccount returns the gateway user of a login, creating one when the
// identity is new. With LinkByEmail, a new identity whose e-mail the
// provider verified joins the user that already holds that verified
// e-mail; an unverified e-mail never joins anything.
func (m *Manager) SignInAccount(ctx context.Context, l SignInLogin) (*Account, error) {
	if m.accounts == nil {
		return nil, ErrAccountsOff
	}
	if !validIdentity(l.Identity) {
		return nil, fmt.Errorf("session accounts: bad identity")
	}
	verified := l.EmailVerified && strings.Contains(l.Email, "@")
	email := normEmail(l.Email)
	// A concurrent first login of the same identity may win the claim
	// between our lookup and our create; then we take its account.
	for range 3 {
		acc, err := m.accountOf(ctx, l.Identity)
		if err != nil || acc != nil {
			return acc, err
		}
		if verified && m.linkByEmail {
			id, err := m.accounts.byEmail(ctx, email)
			if err != nil {
				return nil, accountsErr(err)
			}
			if id != "" {
				err := m.accounts.link(ctx, id, l.Identity, m.now())
				switch {
				case err == nil:
					return m.Account(ctx, id)
				case errors.Is(err, ErrIdentityTaken):
					continue // someone linked it meanwhile: resolve again
				case !errors.Is(err, ErrNoAccount):
					return nil, accountsErr(err)
				}
				// The e-mail's holder was deleted: make a new account.
			}
		}
		id := newAccountID()
		ok, err := m.accounts.create(ctx, id, l.Identity, m.now())
		if err != nil {
			return nil, accountsErr(err)
		}
		if !ok {
			continue
		}
		if verified {
			// Recorded whether or not link_by_email is on now, so that
			// turning it on later finds the users who already exist.
			if err := m.accounts.setEmail(ctx, id, email); err != nil {
				return nil, accountsErr(err)
			}
		}
		return m.Account(ctx, id)
	}
	return nil, fmt.Errorf("session accounts: %w: identity claimed concurrently", ErrUnavailable)
}

// accountOf returns the account owning identity, or nil.
func (m *Manager) accountOf(ctx context.Context, identity string) (*Account, error) {
	id, err := m.accounts.owner(ctx, identity)
	if err != nil || id == "" {
		return nil, accountsErr(err)
	}
	acc, err := m.accounts.account(ctx, id)
	if errors.Is(err, ErrNoAccount) {
		// A link left by an account deleted half-way: free it again.
		return nil, accountsErr(m.accounts.release(ctx, id, identity))
	}
	if err != nil {
		return nil, accountsErr(err)
	}
	if !acc.has(identity) {
		// A link claimed by a create or link that did not finish: finish it.
		if err := m.accounts.link(ctx, id, identity, m.now()); err != nil {
			return nil, accountsErr(err)
		}
		acc.Identities = append(acc.Identities, identity)
	}
	return acc, nil
}

// Account returns the gateway user id, or ErrNoAccount.
func (m *Manager) Account(ctx context.Context, id string) (*Account, error) {
	if m.accounts == nil {
		return nil, ErrAccountsOff
	}
	if !validAccountID(id) {
		return nil, ErrNoAccount
	}
	acc, err := m.accounts.account(ctx, id)
	if err != nil && !errors.Is(err, ErrNoAccount) {
		return nil, accountsErr(err)
	}
	return acc, err
}

// LinkIdentity links identity to user id and brings the user's sessions'
// identity lists up to date. Linking an identity the user already has is
// not an error; one that another user owns is ErrIdentityTaken.
func (m *Manager) LinkIdentity(ctx context.Context, id, identity string) (*Account, error) {
	if m.accounts == nil {
		return nil, ErrAccountsOff
	}
	if !validAccountID(id) || !validIdentity(identity) {
		return nil, ErrNoAccount
	}
	if err := m.accounts.link(ctx, id, identity, m.now()); err != nil {
		return nil, accountsErr(err)
	}
	return m.syncAccount(ctx, id)
}

// UnlinkIdentity removes identity from user id, never the last one
// (ErrLastIdentity), ends the sessions that signed in with it, and brings
// the user's other sessions up to date.
func (m *Manager) UnlinkIdentity(ctx context.Context, id, identity string) (*Account, error) {
	if m.accounts == nil {
		return nil, ErrAccountsOff
	}
	if !validAccountID(id) || !validIdentity(identity) {
		return nil, ErrNoAccount
	}
	if err := m.accounts.unlink(ctx, id, identity, false); err != nil {
		return nil, accountsErr(err)
	}
	if _, err := m.EndUser(ctx, identity); err != nil {
		return nil, err
	}
	return m.syncAccount(ctx, id)
}

// IdentityGone is the provider saying an identity is no more (Kakao's
// unlink callback): the identity leaves its user even when it was the last
// one (the user is then deleted) and its sessions end. It reports how many
// sessions ended. Without accounts it only ends the sessions.
func (m *Manager) IdentityGone(ctx context.Context, identity string) (int, error) {
	n, err := m.EndUser(ctx, identity)
	if err != nil || m.accounts == nil {
		return n, err
	}
	id, err := m.accounts.owner(ctx, identity)
	if err != nil || id == "" {
		return n, accountsErr(err)
	}
	if err := m.accounts.unlink(ctx, id, identity, true); err != nil && !errors.Is(err, ErrNoAccount) {
		return n, accountsErr(err)
	}
	_, err = m.syncAccount(ctx, id)
	if errors.Is(err, ErrNoAccount) {
		err = nil
	}
	return n, err
}

// accountsErr keeps ErrIdentityTaken, ErrLastIdentity and ErrNoAccount as
// they are and marks everything else a store failure.
func accountsErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrIdentityTaken), errors.Is(err, ErrLastIdentity), errors.Is(err, ErrNoAccount),
		errors.Is(err, ErrUnavailable):
		return err
	}
	return fmt.Errorf("session accounts: %w: %w", ErrUnavailable, err)
}

// validAccountID reports whether id has newAccountID's shape.
func validAccountID(id string) bool {
	return len(id) == len(AccountIDPrefix)+22 && strings.HasPrefix(id, AccountIDPrefix) &&
		validID43(id[len(AccountIDPrefix):])
}

// validID43 reports whether s is base64url without padding.
func validID43(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// validIdentity accepts "provider:subject" with printable ASCII and no
// spaces or commas (X-Forwarded-Identities is comma separated).
func validIdentity(s string) bool {
	p, sub, ok := strings.Cut(s, ":")
	if !ok || p == "" || sub == "" || len(s) > 320 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ',' {
			return false
		}
	}
	return true
}

// newAccountBackend picks where accounts live: Redis next to the sessions,
// a file for the memory store.
func newAccountBackend(st Store, o AccountsOptions) (accountBackend, error) {
	if r, ok := st.(*Redis); ok {
		return redisAccounts{r: r}, nil
	}
	return openFileAccounts(o.File)
}
