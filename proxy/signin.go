package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/session"
)

// loginStateTTL is how long a started login may take: the state expires
// after it, single use either way.
const loginStateTTL = 10 * time.Minute

type providerButton struct {
	Name, Label, Href string
}

type signInPage struct {
	Lang           lang
	Providers      []providerButton
	LangKO, LangEN string
}

// signIn shows one button per provider. The rd it passes on is validated
// here and again at start; an unacceptable rd becomes "/".
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	rd := s.safeRedirect(r.URL.Query().Get("rd"))
	l := langFor(r)
	page := signInPage{Lang: l}
	for _, p := range s.order {
		// A kind's own wording ("네이버 아이디로 로그인") unless the instance
		// was given a display name of its own.
		key := "signin_" + p.Kind()
		label := s.pages.text(l, key)
		if label == key || p.DisplayName() != providers.KindDisplayName(p.Kind()) {
			label = fmt.Sprintf(s.pages.text(l, "signin_other"), p.DisplayName())
		}
		q := url.Values{"rd": {rd}}
		page.Providers = append(page.Providers, providerButton{
			Name:  p.Name(),
			Label: label,
			Href:  "/oauth2/start/" + url.PathEscape(p.Name()) + "?" + q.Encode(),
		})
	}
	page.LangKO = "/oauth2/sign_in?" + url.Values{"rd": {rd}, "lang": {"ko"}}.Encode()
	page.LangEN = "/oauth2/sign_in?" + url.Values{"rd": {rd}, "lang": {"en"}}.Encode()
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
	p, ok := s.providers[r.PathValue("provider")]
	if !ok {
		return errorf(http.StatusNotFound, "unknown_provider", nil)
	}
	rd := r.URL.Query().Get("rd")
	target := s.safeRedirect(rd)
	if rd != "" && target == "/" && rd != "/" {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "redirect refused",
			slog.String("request_id", requestID(r.Context())),
			slog.String("provider", p.Name()))
	}
	a := p.NewAuthRequest()
	ctx := r.Context()
	pctx, cancel := context.WithTimeout(ctx, s.opts.ProviderTimeout)
	authURL, err := p.AuthURLContext(pctx, a)
	cancel()
	if err != nil {
		return errorf(http.StatusBadGateway, "provider_failed", err)
	}
	st := &session.LoginState{
		Provider:  p.Name(),
		Verifier:  a.Verifier,
		Nonce:     a.Nonce,
		Redirect:  target,
		CreatedAt: s.now(),
	}
	if err := s.sessions.Store().PutLoginState(ctx, a.State, st, loginStateTTL); err != nil {
		return storeError(err)
	}
	// Bound the pending logins of this browser: the oldest are forgotten,
	// so /oauth2/start cannot fill the store through one browser.
	pending := append(s.cookies.ReadLogin(r), a.State)
	if n := len(pending) - session.MaxPendingLogins; n > 0 {
		for _, old := range pending[:n] {
			_ = s.sessions.Store().DeleteLoginState(ctx, old)
		}
		pending = slices.Clone(pending[n:])
	}
	s.cookies.WriteLogin(w, pending)
	s.metrics.logins.WithLabelValues(p.Name(), "started").Inc()
	redirectTo(w, authURL, http.StatusFound)
	return nil
}

// storeError maps a store failure to 503: fail closed, never let anyone in
// because the store is down.
func storeError(err error) error {
	return errorf(http.StatusServiceUnavailable, "store_unavailable", err)
}
