package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/session"
)

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

// refresh renews the session's tokens through the Manager's refresh
// protocol (one refresher per session across replicas, a sign-out during
// the provider call wins). It returns the session to use, or nil when the
// session ended: the provider refused the refresh token (the user unlinked
// the app), or the user signed out meanwhile.
func (s *Server) refresh(ctx context.Context, sess *session.Session) *session.Session {
	p, ok := s.providers[sess.Provider]
	if !ok {
		return sess
	}
	next, outcome, err := s.sessions.Refresh(ctx, sess, session.RefreshRequest{
		Due:         s.refreshDue,
		CallTimeout: s.opts.ProviderTimeout,
		Call: func(ctx context.Context, refreshToken string) (session.Tokens, error) {
			tok, err := p.Refresh(ctx, refreshToken)
			if errors.Is(err, providers.ErrInvalidGrant) {
				return session.Tokens{}, errors.Join(session.ErrRefreshRejected, err)
			}
			return session.Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}, err
		},
	})
	log := s.log.With(slog.String("request_id", requestID(ctx)), slog.String("user", sess.User()))
	switch outcome {
	case session.RefreshOK:
		s.metrics.refreshes.WithLabelValues(sess.Provider, "ok").Inc()
	case session.RefreshFailed:
		s.metrics.refreshes.WithLabelValues(sess.Provider, "error").Inc()
		log.Warn("token refresh failed", slog.Any("error", err))
	case session.RefreshRevoked:
		s.metrics.refreshes.WithLabelValues(sess.Provider, "revoked").Inc()
		log.Info("refresh token refused; ending session")
		if err != nil {
			log.Warn("ending session after refused refresh", slog.Any("error", err))
		}
	case session.RefreshEnded:
		log.Info("session ended during token refresh")
	}
	return next
}
