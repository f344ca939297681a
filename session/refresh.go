package session

import (
	"context"
	"errors"
	"time"
)

// Provider tokens expire; a session keeps working by spending its refresh
// token shortly before. Refresh runs that protocol so that, of several
// requests or replicas that find the same session due, only one spends the
// token (Kakao rotates refresh tokens; a second refresh with the old one
// would end the session), a sign-out during the provider call wins, and a
// refused token ends the session.

// storeWriteTimeout bounds the store calls a refresh makes after the
// provider answered; they no longer follow the request's context.
const storeWriteTimeout = 5 * time.Second

// ErrRefreshRejected is what a RefreshRequest.Call wraps when the provider
// refused the refresh token (OAuth invalid_grant): the user unlinked the
// app or the token expired, and the session ends.
var ErrRefreshRejected = errors.New("session: refresh token rejected")

// Tokens are a provider's answer to a refresh. An empty RefreshToken keeps
// the old one (Naver never rotates; Kakao only near its expiry).
type Tokens struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time
}

// RefreshRequest says how to refresh one session.
type RefreshRequest struct {
	// Due reports whether a session still needs refreshing; it is asked
	// again of the copy reloaded under the lock.
	Due func(*Session) bool
	// Call asks the provider for new tokens. Its context is detached from
	// the request and bounded by CallTimeout: a browser that goes away must
	// not make the gateway forget a token the provider has just rotated.
	Call func(ctx context.Context, refreshToken string) (Tokens, error)
	// CallTimeout bounds Call. Zero: 10s.
	CallTimeout time.Duration
}

// RefreshOutcome is what Refresh did, for metrics and logs.
type RefreshOutcome int

const (
	// RefreshSkipped: another request holds the lock, or refreshed first.
	RefreshSkipped RefreshOutcome = iota
	// RefreshOK: new tokens saved.
	RefreshOK
	// RefreshFailed: the provider or the store failed; the session stays
	// as it was and the next request tries again.
	RefreshFailed
	// RefreshRevoked: the provider refused the refresh token; the session
	// was ended.
	RefreshRevoked
	// RefreshEnded: the session was ended (sign-out, revocation) while the
	// refresh ran or before it began.
	RefreshEnded
)

// String is the outcome's metric label.
func (o RefreshOutcome) String() string {
	switch o {
	case RefreshOK:
		return "ok"
	case RefreshFailed:
		return "error"
	case RefreshRevoked:
		return "revoked"
	case RefreshEnded:
		return "ended"
	}
	return "skipped"
}

// Refresh renews s's provider tokens under a lock named for the session,
// held on every replica sharing the store. It returns the session to use:
// the refreshed one, the current one when the refresh did not happen now,
// or nil when the session ended. The error, if any, is the cause of
// RefreshFailed or of a failed end after RefreshRevoked, for the log.
func (m *Manager) Refresh(ctx context.Context, s *Session, req RefreshRequest) (*Session, RefreshOutcome, error) {
	if s == nil || req.Call == nil || req.Due == nil {
		return s, RefreshFailed, errors.New("session refresh: no session or request")
	}
	callTimeout := orDefault(req.CallTimeout, 10*time.Second)
	key := "refresh:" + s.ID
	// The lock outlives the provider call and the store writes after it,
	// so it never expires under a refresh still in flight.
	// A store that cannot lock now (a Redis blip) skips too: the token is
	// still valid for a while and the next request tries again.
	got, err := m.store.TryLock(ctx, key, callTimeout+2*storeWriteTimeout)
	if err != nil || !got {
		return s, RefreshSkipped, nil // someone else refreshes
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeWriteTimeout)
		defer cancel()
		_ = m.store.Unlock(uctx, key)
	}()
	// Another replica may have finished a refresh just before we got the
	// lock: read again, from the store and not a replica's cache, so we do
	// not spend a rotated refresh token.
	fresh, err := m.Reload(ctx, s.ID)
	switch {
	case err == nil && !req.Due(fresh):
		return fresh, RefreshSkipped, nil
	case err == nil:
		s = fresh
	case errors.Is(err, ErrNotFound):
		return nil, RefreshEnded, nil
	}

	bg := context.WithoutCancel(ctx)
	pctx, cancel := context.WithTimeout(bg, callTimeout)
	defer cancel()
	tok, err := req.Call(pctx, s.RefreshToken)

	sctx, cancelStore := context.WithTimeout(bg, storeWriteTimeout)
	defer cancelStore()
	switch {
	case errors.Is(err, ErrRefreshRejected):
		// Past an expired lock another request may have rotated the token
		// we sent: then the session lives on with the new one.
		if cur, err := m.store.Load(sctx, s.ID); err == nil && cur.RefreshToken != s.RefreshToken {
			return cur, RefreshSkipped, nil
		}
		// The provider says this identity's grant is gone (the person
		// unlinked the app): every session of it ends, on every replica,
		// not just the one whose token was refused (SPEC, "Accounts and
		// sessions"); the others' tokens would be refused next anyway.
		if err := m.End(sctx, s.ID); err != nil {
			return nil, RefreshRevoked, err
		}
		if _, err := m.EndUser(sctx, s.User()); err != nil {
			return nil, RefreshRevoked, err
		}
		return nil, RefreshRevoked, nil
	case err != nil:
		return s, RefreshFailed, err
	}
	// A sign-out (or a revocation) during the provider call must win:
	// writing the session back would bring it to life again.
	if _, err := m.store.Load(sctx, s.ID); errors.Is(err, ErrNotFound) {
		return nil, RefreshEnded, nil
	}
	next := *s
	next.AccessToken = tok.AccessToken
	next.TokenExpiry = tok.Expiry
	if tok.RefreshToken != "" {
		next.RefreshToken = tok.RefreshToken
	}
	if err := m.Update(sctx, &next); err != nil {
		return s, RefreshFailed, err
	}
	return &next, RefreshOK, nil
}
