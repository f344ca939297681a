package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/socialgate/socialgate/session"
)

// signIn shows one button per provider. The rd it passes on is validated
// here and again at start; an unacceptable rd becomes "/". A browser that
// is signed in already goes on to rd: the sign-in page is never a dead end
// for someone who has nothing left to do there.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	rd := s.safeRedirect(r.URL.Query().Get("rd"))
	if sess, err := s.currentSession(r); err == nil && sess != nil {
		redirectTo(w, rd, http.StatusFound)
		return nil
	}
	notice := s.takeFlash(w, r)
	// Right after a sign-out a silent login would undo it: the page says
	// "signed out" instead.
	if p := s.autoLogin(r); p != nil && notice != "signed_out" {
		q := url.Values{"rd": {rd}, "prompt": {"none"}}
		redirectTo(w, "/oauth2/start/"+url.PathEscape(p.Name())+"?"+q.Encode(), http.StatusFound)
		return nil
	}
	// A store outage is not a reason to hide the buttons: the page is
	// shown, and the login itself fails closed if the store is still down.
	page := s.signInPage(r, rd)
	page.Notice = notice
	return s.pages.render(w, http.StatusOK, "signin.html", page)
}

// safeRedirect returns rd when the redirect policy accepts it, else "/".
func (s *Server) safeRedirect(rd string) string {
	if rd == "" {
		return "/"
	}
	if v, ok := s.redirects.validate(rd); ok {
		return v
	}
	return "/"
}

// start begins a login: it remembers the provider, PKCE verifier, nonce and
// the validated rd server-side under a fresh state, binds the state to this
// browser with the login cookie, and sends the browser to the provider.
func (s *Server) start(w http.ResponseWriter, r *http.Request) error {
	rd := r.URL.Query().Get("rd")
	p, ok := s.providers[r.PathValue("provider")]
	if !ok {
		he := errorf(http.StatusNotFound, errUnknownProvider, nil)
		he.retry = s.retryURL(s.safeRedirect(rd))
		return he
	}
	target := s.safeRedirect(rd)
	if len(target) > session.MaxLoginRedirect {
		// Every pending login must stay small (an attacker can start as
		// many as the budget allows): a deep link this long is not kept.
		target = "/"
	}
	if rd != "" && target == "/" && rd != "/" {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "redirect refused",
			slog.String("request_id", requestID(r.Context())),
			slog.String("provider", p.Name()))
	}
	return s.beginLogin(w, r, p, target, "")
}

// beginLogin sends the browser to p with a new login state for target;
// connect, when set, is the gateway user the login's identity is to be
// linked to (/oauth2/connect) instead of starting a session.
func (s *Server) beginLogin(w http.ResponseWriter, r *http.Request, p Provider, target, connect string) error {
	a := p.NewAuthRequest()
	if r.URL.Query().Get("prompt") == "none" && p.AutoLogin() {
		a.Prompt = "none" // autologin.go
	}
	ctx := r.Context()
	pctx, cancel := context.WithTimeout(ctx, s.opts.ProviderTimeout)
	authURL, err := p.AuthURLContext(pctx, a)
	cancel()
	if err != nil {
		he := errorf(http.StatusBadGateway, errProviderFailed, err)
		he.retry = s.retryURL(target)
		return he
	}
	st := &session.LoginState{
		Provider: p.Name(),
		Verifier: a.Verifier,
		Nonce:    a.Nonce,
		Redirect: target,
		Connect:  connect,
	}
	client := readForwarded(r, s.opts.TrustedProxies).ClientIP
	b := s.cookies.Bind(w, r)
	// A form kept for this URL rides along (replay.go).
	st.Replay = s.takeParked(ctx, b, target)
	if err := s.sessions.BeginLogin(ctx, b, a.State, client, st); err != nil {
		return withRetry(loginError(err), s.retryURL(target))
	}
	s.rememberRD(w, target)
	s.metrics.logins.WithLabelValues(p.Name(), "started").Inc()
	redirectTo(w, authURL, http.StatusFound)
	return nil
}

// loginError maps a failed BeginLogin: a full pending-login budget is 503
// (the gateway is busy), this client's full share 429 (it started too many
// logins), anything else a store failure.
func loginError(err error) error {
	switch {
	case errors.Is(err, session.ErrClientLogins):
		return errorf(http.StatusTooManyRequests, errTooManyLogins, err)
	case errors.Is(err, session.ErrLoginsFull):
		return errorf(http.StatusServiceUnavailable, errLoginsFull, err)
	case errors.Is(err, session.ErrLoginInvalid):
		return errorf(http.StatusBadRequest, errBadRequest, err)
	}
	return storeError(err)
}

// withRetry adds a "try again" link (the sign-in page for the same deep
// link) to a failure that is worth trying again.
func withRetry(err error, retry string) error {
	var he *httpError
	if errors.As(err, &he) && he.retry == "" {
		he.retry = retry
	}
	return err
}

// storeError maps a store failure to 503: fail closed, never let anyone in
// because the store is down.
func storeError(err error) error {
	return errorf(http.StatusServiceUnavailable, errStoreUnavailable, err)
}
