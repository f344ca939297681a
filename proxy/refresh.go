package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/session"
)

// refreshLocker is implemented by stores that can make sure only one
// replica refreshes a session's tokens at a time. Without it, the gateway
// refreshes without a lock (fine for a single node).
type refreshLocker interface {
	TryLock(ctx context.Context, key string, ttl time.Duration) (bool, error)
	Unlock(ctx context.Context, key string) error
}

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

// refresh renews the session's tokens. It returns the session to use: the
// refreshed one, the old one when the refresh could not happen now (another
// replica holds the lock, the provider is down), or nil when the provider
// refused the refresh token (the user unlinked the app): the session ends.
func (s *Server) refresh(ctx context.Context, sess *session.Session) *session.Session {
	p, ok := s.providers[sess.Provider]
	if !ok {
		return sess
	}
	log := s.log.With(slog.String("request_id", requestID(ctx)), slog.String("user", sess.User()))
	if l, ok := s.sessions.Store().(refreshLocker); ok {
		key := "refresh:" + sess.ID
		got, err := l.TryLock(ctx, key, 30*time.Second)
		if err != nil || !got {
			return sess // someone else refreshes; the token is still valid for a while
		}
		defer func() { _ = l.Unlock(context.WithoutCancel(ctx), key) }()
		// Another replica may have finished a refresh just before we got
		// the lock: read again so we do not spend a rotated refresh token.
		if fresh, err := s.sessions.Get(ctx, sess.ID); err == nil {
			if !s.refreshDue(fresh) {
				return fresh
			}
			sess = fresh
		}
	}
	pctx, cancel := context.WithTimeout(ctx, s.opts.ProviderTimeout)
	defer cancel()
	tok, err := p.Refresh(pctx, sess.RefreshToken)
	switch {
	case errors.Is(err, providers.ErrInvalidGrant):
		s.metrics.refreshes.WithLabelValues(sess.Provider, "revoked").Inc()
		log.Info("refresh token refused; ending session")
		if err := s.sessions.End(ctx, sess.ID); err != nil {
			log.Warn("ending session after refused refresh", slog.Any("error", err))
		}
		return nil
	case err != nil:
		s.metrics.refreshes.WithLabelValues(sess.Provider, "error").Inc()
		log.Warn("token refresh failed", slog.Any("error", err))
		return sess
	}
	next := *sess
	next.AccessToken = tok.AccessToken
	next.TokenExpiry = tok.Expiry
	if tok.RefreshToken != "" { // Naver never rotates; Kakao only near expiry
		next.RefreshToken = tok.RefreshToken
	}
	if tok.IDToken != "" {
		next.IDToken = tok.IDToken
	}
	if err := s.sessions.Update(ctx, &next); err != nil {
		log.Warn("saving refreshed session", slog.Any("error", err))
		return sess
	}
	s.metrics.refreshes.WithLabelValues(sess.Provider, "ok").Inc()
	return &next
}

func netipAddrPort(remote string) (netip.Addr, error) {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.ParseAddr(remote)
	}
	return ap.Addr().Unmap(), nil
}
