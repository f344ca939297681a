package proxy

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/socialgate/socialgate/bearer"
	"github.com/socialgate/socialgate/session"
)

// This file is the one decision: for a request's (host, path, credentials)
// it finds the route and says whether the request may use it. The reverse
// proxy (upstream.go) and forward-auth (forwardauth.go) both call
// Server.decide and only translate its outcome into their own answers, so
// they can never disagree, and the decision metrics are counted here, once.

// outcome is what decide concluded. The zero value is outcomeNoRoute, a
// refusal: a decision that was never made fails closed.
type outcome uint8

const (
	// outcomeNoRoute: no route matches the host and path. The reverse
	// proxy answers 404, forward-auth 403.
	outcomeNoRoute outcome = iota
	// outcomeBadPath: the path routes elsewhere once normalised or
	// trimmed (pathnorm.go): 400, whoever asks.
	outcomeBadPath
	// outcomeUnauthenticated: a protected route and no valid credentials.
	outcomeUnauthenticated
	// outcomeForbidden: signed in, but the route's allow rules say no.
	outcomeForbidden
	// outcomeUnavailable: the session store failed on a protected route;
	// the decision cannot be made (503), never "signed out".
	outcomeUnavailable
	// outcomeAllowed: signed in and allowed on a protected route.
	outcomeAllowed
	// outcomePublic: a public route. who carries the identity when the
	// browser happens to be signed in (and the store answered).
	outcomePublic
)

// permits reports whether the request may go on.
func (o outcome) permits() bool { return o == outcomeAllowed || o == outcomePublic }

// principal is who a request speaks for: a browser session or a machine
// client's verified bearer token (bearer.go), never both. Every rule kind
// reads only what it knows.
type principal struct {
	sess *session.Session // nil: no session
	tok  *bearer.Token    // nil: no bearer token
}

// signedIn reports whether any credential was verified.
func (p principal) signedIn() bool { return p.sess != nil || p.tok != nil }

// decision is decide's answer.
type decision struct {
	outcome outcome
	route   *route // nil only with outcomeNoRoute
	who     principal
	// err is the cause behind outcomeUnavailable, for the error adapter;
	// for a bearer request, also the whole answer to a refusal (an
	// httpError with its RFC 6750 challenge).
	err error
}

// target is what a decision is about: the canonical host (with its port
// when the client sent one) and the cleaned path. Both come from one
// place per request (readForwarded and cleanPath), so the route chosen
// and the Host sent upstream are the same host.
type target struct {
	host string
	path string
}

// decide finds the route for t, authenticates the request the way that
// route accepts, and applies the route's rules. It counts the decision.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, t target) decision {
	rt := s.policy.match(t.host, t.path)
	if s.policy.ambiguous(t.host, t.path, rt) {
		return decision{outcome: outcomeBadPath}
	}
	if rt == nil {
		s.metrics.decisions.noRoute.Inc()
		return decision{}
	}
	if raw, found, malformed := bearerCredential(r.Header); found {
		return s.decideBearer(r, rt, raw, malformed)
	}
	d := decision{route: rt}
	sess, err := s.authenticate(w, r)
	if rt.Public {
		// Public routes keep working when the store is down, without
		// identity; there is nothing to count.
		if err == nil {
			d.who.sess = sess
		}
		d.outcome = outcomePublic
		return d
	}
	switch {
	case err != nil:
		d.outcome, d.err = outcomeUnavailable, err
		return d
	case sess == nil:
		s.metrics.decisions.unauthenticated.Inc()
		d.outcome = outcomeUnauthenticated
		return d
	}
	d.who.sess = sess
	if !rt.allows(d.who) {
		s.metrics.decisions.forbidden.Inc()
		d.outcome = outcomeForbidden
		return d
	}
	s.metrics.decisions.allowed.Inc()
	d.outcome = outcomeAllowed
	return d
}

// refusal is the answer to a decision that does not permit the request,
// the same for the reverse proxy and forward-auth: they differ only in
// what no route means (noRoute: 404 and 403) and in how each asks a
// browser to sign in, which is theirs to do when signIn is true.
func (d decision) refusal(w http.ResponseWriter, noRoute error) (signIn bool, err error) {
	switch d.outcome {
	case outcomeNoRoute:
		return false, noRoute
	case outcomeBadPath:
		return false, errorf(http.StatusBadRequest, errBadPath, errPathAmbiguous)
	case outcomeUnavailable:
		if d.err != nil {
			return false, d.err
		}
	case outcomeUnauthenticated, outcomeForbidden:
		switch {
		case d.err != nil: // a bearer token refused, with its challenge
			return false, d.err
		case d.outcome == outcomeForbidden:
			return false, errorf(http.StatusForbidden, errForbidden,
				errors.New("user "+d.who.sess.User()+" not allowed on route "+d.route.Name))
		}
		if d.route.bearer != nil {
			// RFC 6750 3: no credentials at all, so no error code.
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
		return true, nil
	}
	// An outcome without its cause, or one this switch does not know:
	// fail closed.
	return false, errorf(http.StatusForbidden, errForbidden, fmt.Errorf("refused: decision outcome %d", d.outcome))
}
