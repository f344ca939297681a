// Package session keeps who is signed in: opaque session IDs in a signed
// cookie, session data and login state in a Store (memory or Redis), and the
// expiry rules (absolute lifetime, sliding idle timeout).
package session

import (
	"context"
	"errors"
	"time"
)

// Session is one signed-in browser. The cookie carries only ID; everything
// else lives in the Store (encrypted in Redis).
type Session struct {
	ID string `json:"-"`

	Provider      string `json:"p"`
	Subject       string `json:"s"`
	Email         string `json:"e,omitempty"`
	EmailVerified bool   `json:"ev,omitempty"`
	Name          string `json:"n,omitempty"`
	Picture       string `json:"pic,omitempty"`

	AccessToken  string `json:"at,omitempty"`
	RefreshToken string `json:"rt,omitempty"`
	// IDToken stays empty today: the id_token is verified at login and
	// not needed after, and at ~1 KB (Google) it would be the largest part
	// of a session. Reserved for RP-initiated logout (id_token_hint).
	IDToken     string    `json:"it,omitempty"`
	TokenExpiry time.Time `json:"tx,omitempty"`

	// CSRF guards state-changing forms (sign-out) for this session.
	CSRF string `json:"csrf"`

	// Account is the gateway user ("sg_…") when accounts are on, and
	// Identities that user's linked "provider:subject" values, kept up to
	// date by the accounts API (accounts.go). Empty with accounts off.
	Account    string   `json:"acc,omitempty"`
	Identities []string `json:"ids,omitempty"`

	CreatedAt time.Time `json:"c"`
	LastSeen  time.Time `json:"l"`
}

// User is the gateway-wide user key, "{provider}:{subject}".
func (s *Session) User() string { return s.Provider + ":" + s.Subject }

// LoginState is what /oauth2/start remembers until the callback. It is
// single use and short lived. It is a struct, not a URL, so that later
// features (a saved form POST, an account-linking intent) can ride along.
type LoginState struct {
	Provider  string    `json:"p"`
	Verifier  string    `json:"v,omitempty"`
	Nonce     string    `json:"n,omitempty"`
	Redirect  string    `json:"rd"` // where the browser lands after the callback
	CreatedAt time.Time `json:"c"`
}

var (
	// ErrNotFound means no such session or login state (or it expired).
	ErrNotFound = errors.New("session: not found")
	// ErrUnavailable wraps store failures (Redis down, timeouts), so callers
	// can fail closed with 503 instead of treating the user as signed out.
	ErrUnavailable = errors.New("session: store unavailable")
)

// Store keeps sessions and login states. Implementations must be safe for
// concurrent use. Errors other than ErrNotFound wrap ErrUnavailable.
type Store interface {
	// Load returns the session with that ID, or ErrNotFound.
	Load(ctx context.Context, id string) (*Session, error)
	// Save writes s (s.ID set) and indexes it under s.User(); the entry
	// expires after ttl.
	Save(ctx context.Context, s *Session, ttl time.Duration) error
	// Touch records lastSeen and extends the entry's expiry to ttl without
	// rewriting the rest of the session.
	Touch(ctx context.Context, id string, lastSeen time.Time, ttl time.Duration) error
	// Delete removes one session; deleting a missing one is not an error.
	Delete(ctx context.Context, id string) error
	// ListUser returns the live sessions of user ("kakao:123").
	ListUser(ctx context.Context, user string) ([]*Session, error)
	// DeleteUser removes every session of user and reports how many.
	DeleteUser(ctx context.Context, user string) (int, error)
	// DeleteAll removes every session and reports how many.
	DeleteAll(ctx context.Context) (int, error)

	// PutLoginState stores st under state for ttl.
	PutLoginState(ctx context.Context, state string, st *LoginState, ttl time.Duration) error
	// TakeLoginState returns and deletes st atomically: a second call with
	// the same state gets ErrNotFound.
	TakeLoginState(ctx context.Context, state string) (*LoginState, error)
	// DeleteLoginState drops a pending state (evicted by a newer login).
	DeleteLoginState(ctx context.Context, state string) error

	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	Close() error
}
