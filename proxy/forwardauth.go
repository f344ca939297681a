package proxy

import (
	"errors"
	"net/http"
	"strings"

	"github.com/socialgate/socialgate/session"
)

// forwardAuth answers nginx auth_request, Traefik ForwardAuth and Caddy
// forward_auth for the URL the proxy in front names (X-Forwarded-Proto,
// -Host, -Port, -Uri or X-Original-URL, from a trusted proxy), with the
// same decision as the reverse proxy (Server.decide):
//   - 202 with X-Auth-Request-* (including -Email-Verified) when allowed,
//     and Cookie: the request's cookies without the gateway's; a public
//     route is 202 too, with the identity when signed in;
//   - 401 without a session, JSON with the sign-in URL of the original
//     request, also in X-Auth-Request-Redirect when the original request
//     is a browser navigation (GET or HEAD asking for HTML) — nginx
//     redirects to it; with ?redirect=1 (Traefik, Caddy, which pass the
//     answer on) a browser navigation gets the 302 itself;
//   - 403 when not allowed, when no route matches (fail closed), and when
//     the client sent an identity header (X-Forwarded-User,
//     X-Auth-Request-*, Remote-User, ...): the front proxy would pass a
//     family it cannot strip on to the app.
//
// It fails closed on what it cannot believe: X-Forwarded-Host/-Uri from a
// peer outside server.trusted_proxies is refused (403; the policy of the
// app behind the proxy is unknown), and an unreadable one from a trusted
// proxy is a 400, never the gateway's own URL in its place.
func (s *Server) forwardAuth(w http.ResponseWriter, r *http.Request) error {
	fwd := readForwarded(r, s.opts.TrustedProxies)
	if !fwd.Trusted && namesTarget(r.Header) {
		s.metrics.decisions.forbidden.Inc()
		return errorf(http.StatusForbidden, errUntrustedProxy,
			errors.New("X-Forwarded-Host/-Uri from a peer not in server.trusted_proxies"))
	}
	if k := s.strip.forgedIdentity(r.Header); k != "" {
		s.metrics.decisions.forbidden.Inc()
		return errorf(http.StatusForbidden, errForgedIdentity,
			errors.New("client header "+k+" names a user; the front proxy passed it on (remove it there, or a client forged it)"))
	}
	if fwd.Unreadable {
		return errorf(http.StatusBadRequest, errBadPath, errors.New("unreadable X-Forwarded-Host, -Port, -Uri or X-Original-URL"))
	}
	if fwd.BadHost {
		return errorf(http.StatusBadRequest, errBadHost, errors.New("invalid forwarded host"))
	}
	// A URI the gateway cannot read is one it cannot authorise. The cause
	// is not wrapped: url.Error quotes the URI, which may hold a code.
	u, err := r.URL.Parse(fwd.URI)
	if err != nil {
		return errorf(http.StatusBadRequest, errBadPath, errors.New("unreadable forwarded uri"))
	}
	p, err := cleanPath(u)
	if err != nil {
		return errorf(http.StatusBadRequest, errBadPath, err)
	}
	d := s.decide(w, r, target{host: fwd.Host, path: p})
	if !d.outcome.permits() {
		signIn, err := d.refusal(w, errorf(http.StatusForbidden, errNoRoute,
			errors.New("no upstream matches host "+fwd.Host)))
		if signIn {
			return s.forwardAuthSignIn(w, r, fwd)
		}
		return err
	}
	switch {
	case d.who.sess != nil:
		setAuthRequestHeaders(w.Header(), identityOf(d.who.sess), d.route.enc)
	case d.who.tok != nil:
		setAuthRequestHeaders(w.Header(), identityOfToken(d.who.tok), d.route.enc)
	}
	// The request's cookies without the gateway's, for front proxies that
	// copy answer headers onto the request (Traefik authResponseHeaders:
	// Cookie) and cannot edit a Cookie header themselves: the app then
	// never sees the session cookie. Absent when nothing is left, which
	// those proxies turn into no Cookie header.
	if len(r.Header["Cookie"]) > 0 {
		c := http.Header{"Cookie": r.Header["Cookie"]}
		stripGatewayCookies(c, s.cookies.IsGatewayCookie)
		if v := c["Cookie"]; len(v) > 0 {
			w.Header()["Cookie"] = v
		}
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// namesTarget reports whether the request names the URL to judge with
// headers only a trusted proxy may send.
func namesTarget(h http.Header) bool {
	for _, k := range [...]string{"X-Forwarded-Host", "X-Forwarded-Uri", "X-Forwarded-Port", "X-Original-Url"} {
		if len(h[k]) > 0 {
			return true
		}
	}
	return false
}

// forwardAuthSignIn is the 401 (or, with ?redirect=1, the 302) for a
// request without a session.
func (s *Server) forwardAuthSignIn(w http.ResponseWriter, r *http.Request, fwd forwardedInfo) error {
	signIn := s.signInURL(s.originalURL(fwd))
	if browserNavigation(r, fwd) {
		if r.URL.Query().Get("redirect") == "1" {
			w.Header().Set("Cache-Control", "no-store")
			redirectTo(w, signIn, http.StatusFound)
			return nil
		}
		w.Header().Set("X-Auth-Request-Redirect", signIn)
	}
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthenticated", "sign_in_url": signIn})
	return nil
}

// browserNavigation tells a browser loading a page (sent to the sign-in
// page) from an API client (401). The method is the original request's:
// X-Forwarded-Method from a trusted proxy, else this request's.
func browserNavigation(r *http.Request, fwd forwardedInfo) bool {
	m := r.Method
	if v := r.Header.Get("X-Forwarded-Method"); v != "" && fwd.Trusted {
		m = strings.ToUpper(v)
	}
	return (m == http.MethodGet || m == http.MethodHead) && wantsHTML(r)
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
	id := identityOf(sess)
	writeJSON(w, http.StatusOK, struct {
		User          string   `json:"user"`
		Identities    []string `json:"identities,omitempty"`
		Provider      string   `json:"provider"`
		Subject       string   `json:"subject"`
		Email         string   `json:"email"`
		EmailVerified bool     `json:"email_verified"`
		Name          string   `json:"name"`
		Picture       string   `json:"picture"`
	}{id.User, sess.Identities, sess.Provider, sess.Subject, sess.Email, sess.EmailVerified, sess.Name, sess.Picture})
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

// identityOf is what upstreams are told. With accounts the user is the
// gateway user, the same whichever linked provider signed in.
func identityOf(sess *session.Session) identity {
	user, idents := sess.User(), ""
	if sess.Account != "" {
		user, idents = sess.Account, strings.Join(sess.Identities, ",")
	}
	return identity{
		User:          user,
		Identities:    idents,
		Email:         sess.Email,
		EmailVerified: sess.EmailVerified,
		Name:          sess.Name,
		Provider:      sess.Provider,
		AccessToken:   sess.AccessToken,
	}
}
