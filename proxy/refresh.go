package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/session"
)

// refreshLocker is implemented by stores that can make sure only one
// request, on any replica, refreshes a session's tokens at a time;
// *session.Memory and *session.Redis do. Without it the gateway refreshes
// unlocked, and concurrent requests may each spend the refresh token.
type refreshLocker interface {
	TryLock(ctx context.Context, key string, ttl time.Duration) (bool, error)
	Unlock(ctx context.Context, key string) error
}

// storeWriteTimeout bounds the store calls a refresh makes after the
// provider answered; they no longer follow the request's context.
const storeWriteTimeout = 5 * time.Second

// authenticate returns the browser's session, refreshing the provider's
// tokens when they are about to expire. A nil session means signed out; an
// error means the store failed (503).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*session.Session, error) {
	sess, err := s.currentSession(r)
	if err != nil || sess == nil {
		if err != nil {
			s.metrics.storeErrors.Inc()
		}
		return sess, err
	}
	if s.refreshDue(sess) {
		return s.refresh(r.Context(), sess), nil
	}
	return sess, nil
}

func (s *Server) refreshDue(sess *session.Session) bool {
	return s.opts.RefreshBefore > 0 && sess.RefreshToken != "" && !sess.TokenExpiry.IsZero() &&
		!s.now().Before(sess.TokenExpiry.Add(-s.opts.RefreshBefore))
}

// refreshLockTTL outlives the provider call and the store writes that
// follow it, so a lock never expires under a refresh still in flight (a
// second refresh with a Kakao refresh token being rotated would fail).
func (s *Server) refreshLockTTL() time.Duration {
	return s.opts.ProviderTimeout + 2*storeWriteTimeout
}

// refresh renews the session's tokens. It returns the session to use: the
// refreshed one, the old one when the refresh could not happen now (another
// request holds the lock, the provider or the store failed), or nil when
// the session ended: the provider refused the refresh token (the user
// unlinked the app), or the user signed out meanwhile.
//
// Once the provider has been asked, the work no longer follows the
// request's context: a browser that goes away must not make the gateway
// forget a refresh token the provider has just rotated.
func (s *Server) refresh(ctx context.Context, sess *session.Session) *session.Session {
	p, ok := s.providers[sess.Provider]
	if !ok {
		return sess
	}
	log := s.log.With(slog.String("request_id", requestID(ctx)), slog.String("user", sess.User()))
	if l, ok := s.sessions.Store().(refreshLocker); ok {
		key := "refresh:" + sess.ID
		got, err := l.TryLock(ctx, key, s.refreshLockTTL())
		if err != nil || !got {
			return sess // someone else refreshes; the token is still valid for a while
		}
		defer func() {
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeWriteTimeout)
			defer cancel()
			_ = l.Unlock(uctx, key)
		}()
		// Another replica may have finished a refresh just before we got
		// the lock: read again, from the store and not a replica's session
		// cache, so we do not spend a rotated refresh token.
		if fresh, err := s.sessions.Reload(ctx, sess.ID); err == nil {
			if !s.refreshDue(fresh) {
				return fresh
			}
			sess = fresh
		} else if errors.Is(err, session.ErrNotFound) {
			return nil // signed out or revoked meanwhile
		}
	}
	bg := context.WithoutCancel(ctx)
	pctx, cancel := context.WithTimeout(bg, s.opts.ProviderTimeout)
	defer cancel()
	tok, err := p.Refresh(pctx, sess.RefreshToken)

	sctx, cancelStore := context.WithTimeout(bg, storeWriteTimeout)
	defer cancelStore()
	switch {
	case errors.Is(err, providers.ErrInvalidGrant):
		// Without a lock (or past it) another request may have rotated
		// the token we sent: then the session lives on with the new one.
		if cur, err := s.sessions.Store().Load(sctx, sess.ID); err == nil && cur.RefreshToken != sess.RefreshToken {
			return cur
		}
		s.metrics.refreshes.WithLabelValues(sess.Provider, "revoked").Inc()
		log.Info("refresh token refused; ending session")
		if err := s.sessions.End(sctx, sess.ID); err != nil {
			log.Warn("ending session after refused refresh", slog.Any("error", err))
		}
		return nil
	case err != nil:
		s.metrics.refreshes.WithLabelValues(sess.Provider, "error").Inc()
		log.Warn("token refresh failed", slog.Any("error", err))
		return sess
	}
	// A sign-out (or a revocation) during the provider call must win:
	// writing the session back would bring it to life again.
	if _, err := s.sessions.Store().Load(sctx, sess.ID); errors.Is(err, session.ErrNotFound) {
		log.Info("session ended during token refresh")
		return nil
	}
	next := *sess
	next.AccessToken = tok.AccessToken
	next.TokenExpiry = tok.Expiry
	if tok.RefreshToken != "" { // Naver never rotates; Kakao only near expiry
		next.RefreshToken = tok.RefreshToken
	}
	if err := s.sessions.Update(sctx, &next); err != nil {
		s.metrics.refreshes.WithLabelValues(sess.Provider, "error").Inc()
		log.Warn("saving refreshed session", slog.Any("error", err))
		return sess
	}
	s.metrics.refreshes.WithLabelValues(sess.Provider, "ok").Inc()
	return &next
}
