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
	// IDToken is kept only for an OpenID Connect provider with logout:
	// true, to send back as id_token_hint at sign-out; otherwise it stays
	// empty: it is verified at login and not needed after, and at ~1 KB it
	// would be the largest part of a session.
	IDToken     string    `json:"it,omitempty"`
	TokenExpiry time.Time `json:"tx,omitempty"`

	// CSRF guards state-changing forms (sign-out) for this session.
	CSRF string `json:"csrf"`

	// Account is the gateway user ("sg_…") when accounts are on, and
	// Identities that user's linked "provider:subject" values, kept up to
	// date by the accounts API (accounts.go). Empty with accounts off.
	Account    string   `json:"acc,omitempty"`
	Identities []string `json:"ids,omitempty"`
	// SID is the provider's session ID (the id_token's "sid" claim), kept
	// so that an OIDC back-channel logout naming it ends this session.
	SID string `json:"sid,omitempty"`
	// UserAgent and IP are the browser's at sign-in, for the user's own
	// list of sessions ("Chrome on Windows, 203.0.113.7"). Not secrets;
	// not re-checked on later requests.
	UserAgent string `json:"ua,omitempty"`
	IP        string `json:"ip,omitempty"`

	CreatedAt time.Time `json:"c"`
	LastSeen  time.Time `json:"l"`
}

// User is the gateway-wide user key, "{provider}:{subject}".
func (s *Session) User() string { return s.Provider + ":" + s.Subject }

var (
	// ErrNotFound means no such session or login state (or it expired).
	ErrNotFound = errors.New("session: not found")
	// ErrUnavailable wraps store failures (Redis down, timeouts), so callers
	// can fail closed with 503 instead of treating the user as signed out.
	ErrUnavailable = errors.New("session: store unavailable")
)

// Store keeps sessions and login states. Implementations must be safe for
// concurrent use. Errors other than ErrNotFound and the login-quota errors
// wrap ErrUnavailable. Only the Manager talks to a Store: it is exported so
// that cmd can choose and close one.
type Store interface {
	// Load returns the session with that ID, or ErrNotFound.
	Load(ctx context.Context, id string) (*Session, error)
	// Save writes s (s.ID set) and indexes it under s.User() and, when
	// s.SID is set, under (s.Provider, s.SID); the entry expires after ttl.
	Save(ctx context.Context, s *Session, ttl time.Duration) error
	// Touch records lastSeen and extends the entry's expiry to ttl without
	// rewriting the rest of the session.
	Touch(ctx context.Context, id string, lastSeen time.Time, ttl time.Duration) error
	// Delete removes one session; deleting a missing one is not an error.
	Delete(ctx context.Context, id string) error
	// ListUser returns the live sessions of user ("kakao:123"), oldest first.
	ListUser(ctx context.Context, user string) ([]*Session, error)
	// ListSID returns the live sessions signed in under the provider's
	// session sid, oldest first.
	ListSID(ctx context.Context, provider, sid string) ([]*Session, error)
	// ListUsers returns every user with a session index, sorted. An index
	// may outlive its last session by up to the session's TTL rounding;
	// callers that need live sessions ask ListUser.
	ListUsers(ctx context.Context) ([]string, error)
	// DeleteUser removes every session of user and reports how many.
	DeleteUser(ctx context.Context, user string) (int, error)
	// DeleteAll removes every session and reports how many.
	DeleteAll(ctx context.Context) (int, error)

	// PutLoginState stores data (an encoded LoginState) under state for
	// q.TTL, charging it to the quotas in q: ErrLoginsFull when the store's
	// budget is spent, ErrClientLogins when q.Client's is. Nothing pending
	// is ever evicted to make room.
	PutLoginState(ctx context.Context, state string, data []byte, q LoginQuota) error
	// TakeLoginState returns and deletes the data atomically: a second call
	// with the same state gets ErrNotFound. The bytes are given back to the
	// quotas they were charged to.
	TakeLoginState(ctx context.Context, state string) ([]byte, error)
	// DeleteLoginState drops a pending state (the browser forgot it).
	DeleteLoginState(ctx context.Context, state string) error

	// TryLock takes the advisory lock named key for ttl unless it is held;
	// it never waits. Unlock releases a lock this store took.
	TryLock(ctx context.Context, key string, ttl time.Duration) (bool, error)
	Unlock(ctx context.Context, key string) error

	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	Close() error
}
