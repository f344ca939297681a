package proxy

import (
	"errors"
	"net/http"

	"github.com/socialgate/socialgate/session"
)

// forwardAuth answers nginx auth_request, Traefik ForwardAuth and Caddy
// forward_auth: 202 with X-Auth-Request-* when the browser is signed in (and
// allowed on the route the proxy in front names with X-Forwarded-Host/-Uri,
// when it comes from a trusted proxy), 401 when not, 403 when not allowed.
//
// It fails closed on what it cannot believe: X-Forwarded-Host/-Uri from a
// peer outside server.trusted_proxies is refused (403; the policy of the
// app behind the proxy is unknown), and an unreadable one from a trusted
// proxy is a 400, never the gateway's own URL in its place.
func (s *Server) forwardAuth(w http.ResponseWriter, r *http.Request) error {
	fwd := readForwarded(r, s.opts.TrustedProxies)
	if !fwd.Trusted && (len(r.Header.Values("X-Forwarded-Host")) > 0 || len(r.Header.Values("X-Forwarded-Uri")) > 0) {
		s.metrics.decisions.forbidden.Inc()
		return errorf(http.StatusForbidden, "untrusted_proxy",
			errors.New("X-Forwarded-Host/-Uri from a peer not in server.trusted_proxies"))
	}
	if fwd.Unreadable {
		return errorf(http.StatusBadRequest, "bad_path", errors.New("unreadable X-Forwarded-Host or -Uri"))
	}
	sess, err := s.authenticate(w, r)
	if err != nil {
		return err
	}
	if sess == nil {
		s.metrics.decisions.unauthenticated.Inc()
		return s.unauthenticatedJSON(w, fwd)
	}
	var enc headerEncoding
	if fwd.URI != "" {
		// A URI the gateway cannot read is one it cannot authorise: refuse
		// it rather than answer 202 without asking the route's policy. The
		// cause is not wrapped: url.Error quotes the URI, which may hold a
		// code or state.
		u, err := r.URL.Parse(fwd.URI)
		if err != nil {
			return errorf(http.StatusBadRequest, "bad_path", errors.New("unreadable forwarded uri"))
		}
		p, err := cleanPath(u)
		if err != nil {
			return errorf(http.StatusBadRequest, "bad_path", err)
		}
		if rt := s.policy.match(fwd.Host, p); rt != nil {
			enc = rt.enc
			if !rt.Public && !rt.allows(sess) {
				s.metrics.decisions.forbidden.Inc()
				return errorf(http.StatusForbidden, "forbidden", nil)
			}
		}
	}
	s.metrics.decisions.allowed.Inc()
	setAuthRequestHeaders(w.Header(), identityOf(sess), enc)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// userinfo tells a single-page app who is signed in.
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.authenticate(w, r)
	if err != nil {
		return err
	}
	if sess == nil {
		return s.unauthenticatedJSON(w, readForwarded(r, s.opts.TrustedProxies))
	}
	writeJSON(w, http.StatusOK, struct {
		User          string `json:"user"`
		Provider      string `json:"provider"`
		Subject       string `json:"subject"`
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		Name          string `json:"name"`
		Picture       string `json:"picture"`
	}{sess.User(), sess.Provider, sess.Subject, sess.Email, sess.EmailVerified, sess.Name, sess.Picture})
	return nil
}

// unauthenticatedJSON is the answer API clients get without a session.
func (s *Server) unauthenticatedJSON(w http.ResponseWriter, fwd forwardedInfo) error {
	writeJSON(w, http.StatusUnauthorized, map[string]string{
		"error":       "unauthenticated",
		"sign_in_url": s.signInURL(s.originalURL(fwd)),
	})
	return nil
}

func identityOf(sess *session.Session) identity {
	return identity{
		User:          sess.User(),
		Email:         sess.Email,
		EmailVerified: sess.EmailVerified,
		Name:          sess.Name,
		Provider:      sess.Provider,
		AccessToken:   sess.AccessToken,
	}
}
