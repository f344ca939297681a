package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/session"
)

// callback finishes a login. The state must be one this browser started
// (login cookie), still pending in the store (single use, 10 minutes) and for
// this provider. The browser lands on the URL remembered at start, never on
// anything that came back through the provider.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("provider")
	p, ok := s.providers[name]
	if !ok {
		return errorf(http.StatusNotFound, errUnknownProvider, nil)
	}
	ctx := r.Context()
	q := r.URL.Query()
	state := q.Get("state")

	st, err := s.sessions.FinishLogin(ctx, s.cookies.Bind(w, r), name, state)
	if err != nil && !errors.Is(err, session.ErrLoginInvalid) {
		return withRetry(storeError(err), s.retryURL(s.rememberedRD(r)))
	}
	// Every way back keeps the deep link: the one of this state, else the
	// one of the last login this browser started (state unknown or expired).
	var retry string
	if st != nil {
		retry = s.retryURL(st.Redirect)
	} else {
		retry = s.retryURL(s.rememberedRD(r))
	}

	if e := q.Get("error"); e != "" {
		if silentRefused(e) {
			// A silent login (prompt=none, auto_login in KakaoTalk) found
			// no returning user: not an error, the person signs in on the
			// page, which must not try silently again.
			s.metrics.logins.WithLabelValues(name, "silent_refused").Inc()
			rd := "/"
			if st != nil {
				rd = st.Redirect
			}
			redirectTo(w, signInManually(rd), http.StatusFound)
			return nil
		}
		// The provider said no. access_denied is the person pressing
		// "cancel": a 403 page with a way back, not an error of ours.
		result, status, msg := "denied", http.StatusForbidden, errConsentDenied
		if e != "access_denied" {
			result, status, msg = "provider_error", http.StatusBadGateway, errProviderFailed
		}
		s.metrics.logins.WithLabelValues(name, result).Inc()
		he := errorf(status, msg, errors.New("provider returned error "+sanitizeCode(e)))
		he.retry = retry
		return he
	}
	if err != nil {
		s.metrics.logins.WithLabelValues(name, "bad_state").Inc()
		he := errorf(http.StatusBadRequest, errStateInvalid, err)
		he.retry = retry
		return he
	}
	code := q.Get("code")
	if code == "" {
		he := errorf(http.StatusBadRequest, errBadRequest, errors.New("callback without code"))
		he.retry = retry
		return he
	}

	pctx, cancel := context.WithTimeout(ctx, s.opts.ProviderTimeout)
	defer cancel()
	id, tok, err := p.Exchange(pctx, code, providers.AuthRequest{
		State:    state,
		Nonce:    st.Nonce,
		Verifier: st.Verifier,
	})
	if err != nil {
		status, msg, result := http.StatusBadGateway, errProviderFailed, "provider_error"
		if errors.Is(err, providers.ErrCodeRejected) {
			status, msg, result = http.StatusBadRequest, errCodeRejected, "code_rejected"
		}
		s.metrics.logins.WithLabelValues(name, result).Inc()
		he := errorf(status, msg, err)
		he.retry = retry
		return he
	}
	if id.Provider == "" {
		id.Provider = name
	}
	if st.Connect != "" {
		return s.finishConnect(w, r, st, id)
	}
	acc, err := s.signInAccount(ctx, id)
	if err != nil {
		return accountError(err)
	}
	var accountID string
	var identities []string
	if acc != nil {
		accountID, identities = acc.ID, acc.Identities
	}

	// A login always issues a new session ID and drops the one the browser
	// came with, valid or forged (session fixation).
	oldID, _ := s.cookies.ReadSession(r)
	sess, err := s.sessions.Create(ctx, &session.Session{
		SID:           id.SID,
		UserAgent:     r.UserAgent(),
		IP:            readForwarded(r, s.opts.TrustedProxies).ClientIP.String(),
		Provider:      id.Provider,
		Subject:       id.Subject,
		Email:         id.Email,
		EmailVerified: id.EmailVerified,
		Name:          id.Name,
		Picture:       id.Picture,
		AccessToken:   tok.AccessToken,
		RefreshToken:  tok.RefreshToken,
		TokenExpiry:   tok.Expiry,
		IDToken:       keptIDToken(p, tok),
		Account:       accountID,
		Identities:    identities,
	}, oldID)
	if err != nil {
		return withRetry(storeError(err), retry)
	}
	s.cookies.WriteSession(w, sess.ID)
	s.metrics.logins.WithLabelValues(name, "ok").Inc()
	s.log.LogAttrs(ctx, slog.LevelInfo, "signed in",
		slog.String("request_id", requestID(ctx)),
		slog.String("user", sess.User()),
		slog.String("provider", name))
	if st.Replay != nil {
		s.armReplay(w, r, st, sess.ID)
	}
	redirectTo(w, st.Redirect, http.StatusFound)
	return nil
}

// sanitizeCode keeps a provider's error code printable and short for logs.
func sanitizeCode(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x21 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}
