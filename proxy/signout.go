package proxy

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/session"
)

// maxRevokesInFlight bounds background revocations: past it, sign-outs
// still work and their tokens are left to expire.
const maxRevokesInFlight = 64

type signOutPage struct {
	Lang               lang
	User, Name, Email  string
	Provider, CSRF, RD string
	Cancel             string
	// SignIn is the sign-in page for RD (shown when not signed in).
	SignIn string
}

// signOutPage confirms before signing out: a GET must never end a session
// (a link or <img> on another site could otherwise sign people out).
func (s *Server) signOutPage(w http.ResponseWriter, r *http.Request) error {
	rd := s.safeRedirect(r.URL.Query().Get("rd"))
	page := signOutPage{Lang: langFor(r), RD: rd, Cancel: rd, SignIn: s.retryURL(rd)}
	sess, err := s.currentSession(r)
	if err != nil {
		return err
	}
	if sess != nil {
		page.User, page.Name, page.Email = sess.User(), sess.Name, sess.Email
		page.Provider, page.CSRF = sess.Provider, sess.CSRF
		if page.Name == "" {
			page.Name = sess.User()
		}
	}
	return s.pages.render(w, http.StatusOK, "signout.html", page)
}

// signOut ends the session server-side (or every session of the user with
// everywhere=1), clears the cookie and sends the browser to rd or the login
// page. The form's CSRF token must match the session's.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return errorf(http.StatusBadRequest, errBadRequest, err)
	}
	sess, err := s.currentSession(r)
	if err != nil {
		return err
	}
	if sess != nil {
		token := r.PostForm.Get("csrf")
		if sess.CSRF == "" || subtle.ConstantTimeCompare([]byte(token), []byte(sess.CSRF)) != 1 {
			he := errorf(http.StatusForbidden, errCSRF, errors.New("sign-out csrf token mismatch"))
			he.retry = "/oauth2/sign_out"
			if rd := s.safeRedirect(r.PostForm.Get("rd")); rd != "/" {
				he.retry += "?" + url.Values{"rd": {rd}}.Encode()
			}
			return he
		}
		ctx := r.Context()
		if r.PostForm.Get("everywhere") == "1" {
			ended := []*session.Session{sess}
			if s.opts.RevokeProviderTokens {
				// The other sessions' tokens are only known before they end.
				if all, err := s.sessions.OwnSessions(ctx, sess); err == nil {
					ended = all
				}
			}
			// The person's every session: with accounts, those of every
			// linked identity, as the sessions page lists them.
			n, err := s.sessions.EndOwnSessions(ctx, sess)
			if err != nil {
				return storeError(err)
			}
			s.revokeTokens(ctx, ended)
			s.log.LogAttrs(ctx, slog.LevelInfo, "signed out everywhere",
				slog.String("request_id", requestID(ctx)), slog.String("user", sess.User()), slog.Int("sessions", n))
		} else {
			if err := s.sessions.End(ctx, sess.ID); err != nil {
				return storeError(err)
			}
			s.revokeTokens(ctx, []*session.Session{sess})
			s.log.LogAttrs(ctx, slog.LevelInfo, "signed out",
				slog.String("request_id", requestID(ctx)), slog.String("user", sess.User()))
		}
	}
	s.cookies.ClearSession(w)
	s.setFlash(w, "signed_out")
	if sess != nil {
		// providers.<id>.logout: the provider's end-session page next, and
		// from there back to /oauth2/signed_out.
		if u := s.providerLogoutURL(r.Context(), sess); u != "" {
			redirectTo(w, u, http.StatusFound)
			return nil
		}
	}
	rd := s.safeRedirect(r.PostForm.Get("rd"))
	if rd == "/" && r.PostForm.Get("rd") == "" {
		rd = "/oauth2/sign_in"
	}
	redirectTo(w, rd, http.StatusFound)
	return nil
}

// currentSession returns the browser's live session, nil when there is none
// (no cookie, a tampered one, expired), or a 503 error when the store is down.
func (s *Server) currentSession(r *http.Request) (*session.Session, error) {
	id, ok := s.cookies.ReadSession(r)
	if !ok {
		return nil, nil
	}
	sess, err := s.sessions.Get(r.Context(), id)
	switch {
	case err == nil:
		return sess, nil
	case errors.Is(err, session.ErrNotFound):
		return nil, nil
	default:
		return nil, storeError(err)
	}
}

// revokeTokens asks the providers to revoke the tokens of sessions that
// just ended, when Options.RevokeProviderTokens is set. It never waits: each
// revocation runs in the background, bounded by ProviderTimeout, and a
// failure is only logged (the session is gone either way).
func (s *Server) revokeTokens(ctx context.Context, ended []*session.Session) {
	if !s.opts.RevokeProviderTokens {
		return
	}
	log := s.log.With(slog.String("request_id", requestID(ctx)))
	bg := context.WithoutCancel(ctx)
	for _, sess := range ended {
		p, ok := s.providers[sess.Provider]
		if !ok || (sess.AccessToken == "" && sess.RefreshToken == "") {
			continue
		}
		select {
		case s.revokeSlots <- struct{}{}:
		default:
			log.Warn("too many token revocations in flight; skipped", slog.String("user", sess.User()))
			continue
		}
		tok := providers.Tokens{AccessToken: sess.AccessToken, RefreshToken: sess.RefreshToken, IDToken: sess.IDToken}
		user := sess.User()
		go func() {
			defer func() { <-s.revokeSlots }()
			rctx, cancel := context.WithTimeout(bg, s.opts.ProviderTimeout)
			defer cancel()
			if err := p.Revoke(rctx, tok); err != nil {
				log.Warn("revoking provider tokens", slog.String("user", user), slog.Any("error", err))
			}
		}()
	}
}
