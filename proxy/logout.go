package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/session"
)

// Logout that reaches the provider, both ways (see providers/logout.go):
// sign-out continuing at the provider's end-session page, the provider's
// back-channel logout token, and Kakao's unlink callback.

// endSessioner is a provider whose sign-out can continue at its end-session
// page (providers.logout: true).
type endSessioner interface {
	LogoutEnabled() bool
	WantsIDTokenHint() bool
	LogoutURL(ctx context.Context, r providers.LogoutRequest) (string, error)
}

// logoutTokenVerifier is an OpenID Connect provider taking back-channel
// logout tokens.
type logoutTokenVerifier interface {
	IsOIDC() bool
	VerifyLogoutToken(ctx context.Context, raw string) (providers.LogoutToken, error)
}

// unlinkVerifier is Kakao with an Admin key.
type unlinkVerifier interface {
	SupportsUnlink() bool
	VerifyUnlink(authorization string, form url.Values) (providers.Unlink, error)
}

// maxProviderForm bounds the form bodies providers post to the gateway.
const maxProviderForm = 64 << 10

// keepsIDToken reports whether sessions of provider p keep the id_token:
// only to send it back as id_token_hint when sign-out continues at an
// OpenID Connect provider. Otherwise it is not kept (about 1 KB each).
func keepsIDToken(p Provider) bool {
	e, ok := p.(endSessioner)
	return ok && e.WantsIDTokenHint()
}

// providerLogoutURL is where the browser goes after a local sign-out of
// sess when its provider has logout: true, or "" to stay at the gateway
// (no such provider, it has no end-session page, or it failed). The
// provider sends the browser back to /oauth2/signed_out.
func (s *Server) providerLogoutURL(ctx context.Context, sess *session.Session) string {
	p, ok := s.providers[sess.Provider]
	if !ok {
		return ""
	}
	e, ok := p.(endSessioner)
	if !ok || !e.LogoutEnabled() {
		return ""
	}
	pctx, cancel := context.WithTimeout(ctx, s.opts.ProviderTimeout)
	defer cancel()
	u, err := e.LogoutURL(pctx, providers.LogoutRequest{
		IDTokenHint:           sess.IDToken,
		PostLogoutRedirectURI: s.publicURL("/oauth2/signed_out", nil),
	})
	if err != nil {
		// The gateway's session is gone either way: say so and stay.
		s.log.LogAttrs(ctx, slog.LevelWarn, "provider logout unavailable",
			slog.String("request_id", requestID(ctx)), slog.String("provider", sess.Provider), slog.Any("error", err))
		return ""
	}
	return u
}

type signedOutPage struct {
	Lang lang
}

// signedOut is where providers send the browser back after their logout.
func (s *Server) signedOut(w http.ResponseWriter, r *http.Request) error {
	return s.pages.render(w, http.StatusOK, "signed_out.html", signedOutPage{Lang: langFor(r)})
}

// backchannelLogout is OpenID Connect Back-Channel Logout 1.0: the issuer
// POSTs a logout token; a valid one ends the sessions it names, by sid when
// it has one, else every session of sub, on every replica. 200 when done
// (also when no session matched), 400 for a token that is bad in any way or
// seen before.
func (s *Server) backchannelLogout(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("provider")
	p, ok := s.providers[name]
	v, canVerify := p.(logoutTokenVerifier)
	if !ok || !canVerify || !v.IsOIDC() {
		return errorf(http.StatusNotFound, errUnknownProvider, nil)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxProviderForm)
	if err := r.ParseForm(); err != nil {
		return errorf(http.StatusBadRequest, errBadLogoutToken, err)
	}
	ctx := r.Context()
	lt, err := v.VerifyLogoutToken(ctx, r.PostForm.Get("logout_token"))
	switch {
	case errors.Is(err, providers.ErrBadLogoutToken):
		s.metrics.providerEvents.WithLabelValues(name, "backchannel_refused").Inc()
		return errorf(http.StatusBadRequest, errBadLogoutToken, err)
	case err != nil:
		// The issuer's keys were unreachable: it will send the token again.
		return errorf(http.StatusBadGateway, errProviderFailed, err)
	}
	first, err := s.sessions.FirstUse(ctx, "backchannel:"+name+"\x00"+lt.Issuer+"\x00"+lt.JTI, lt.RememberUntil)
	if err != nil {
		return storeError(err)
	}
	if !first {
		s.metrics.providerEvents.WithLabelValues(name, "backchannel_refused").Inc()
		return errorf(http.StatusBadRequest, errBadLogoutToken, errors.New("logout token jti replayed"))
	}
	n, err := s.endNamedSessions(ctx, name, lt)
	if err != nil {
		return storeError(err)
	}
	s.metrics.providerEvents.WithLabelValues(name, "backchannel_logout").Inc()
	s.log.LogAttrs(ctx, slog.LevelInfo, "back-channel logout",
		slog.String("request_id", requestID(ctx)), slog.String("provider", name),
		slog.Bool("by_sid", lt.SessionID != ""), slog.Int("sessions", n))
	w.WriteHeader(http.StatusOK)
	return nil
}

// endNamedSessions ends the sessions a logout token names: those signed in
// under its sid when it has one, else every session of its subject. The
// identity stays linked to its gateway user: signing out at the provider is
// not leaving the app (Kakao's unlink callback is).
func (s *Server) endNamedSessions(ctx context.Context, provider string, lt providers.LogoutToken) (int, error) {
	if lt.SessionID != "" {
		return s.sessions.EndProviderSessions(ctx, provider, lt.SessionID)
	}
	return s.sessions.EndUser(ctx, provider+":"+lt.Subject)
}

// kakaoUnlink is Kakao's unlink callback: the person disconnected the app
// ("연결 끊기"), deleted their Kakao account, or Kakao's support did. Kakao
// proves it is Kakao with the app's Admin key. Every session of that
// Kakao user ends on every replica, and with accounts the identity leaves
// its gateway user. 200 whenever the request was Kakao's, known user or
// not (as Kakao asks); 401 for a wrong key; 400 for malformed parameters.
func (s *Server) kakaoUnlink(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxProviderForm)
	if err := r.ParseForm(); err != nil {
		return errorf(http.StatusBadRequest, errBadRequest, err)
	}
	auth := r.Header.Get("Authorization")
	configured := false
	// Several Kakao apps (instances) may share the endpoint: the Admin key
	// says which one is calling.
	for _, p := range s.order {
		v, ok := p.(unlinkVerifier)
		if !ok || !v.SupportsUnlink() {
			continue
		}
		configured = true
		u, err := v.VerifyUnlink(auth, r.Form)
		if errors.Is(err, providers.ErrUnlinkUnauthorized) {
			continue
		}
		if err != nil {
			return errorf(http.StatusBadRequest, errBadRequest, err)
		}
		ctx := r.Context()
		ident := p.Name() + ":" + u.Subject
		n, err := s.sessions.IdentityGone(ctx, ident)
		if err != nil {
			return storeError(err)
		}
		s.metrics.providerEvents.WithLabelValues(p.Name(), "unlinked").Inc()
		s.log.LogAttrs(ctx, slog.LevelInfo, "kakao unlink",
			slog.String("request_id", requestID(ctx)), slog.String("user", ident),
			slog.String("referrer_type", u.ReferrerType), slog.String("app_id", u.AppID), slog.Int("sessions", n))
		w.WriteHeader(http.StatusOK)
		return nil
	}
	if !configured {
		return errorf(http.StatusNotFound, errUnknownProvider, errors.New("no kakao provider with admin_key"))
	}
	w.Header().Set("WWW-Authenticate", "KakaoAK")
	return errorf(http.StatusUnauthorized, errUnlinkUnauthorized, errors.New("unlink callback with a wrong or missing admin key"))
}
