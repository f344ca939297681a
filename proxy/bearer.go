package proxy

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/socialgate/socialgate/bearer"
)

// This file is the machine-client half of Server.decide: requests with
// "Authorization: Bearer <JWT>" (the client-credentials grant), judged by
// the route's bearer issuers and its allow.scopes and allow.clients. They
// never touch the session store: no session is read, created or touched,
// and the answer is never a redirect to the sign-in page.

// bearerCredential finds a bearer token in the Authorization header. found
// reports that the client sent one (scheme compared case-insensitively,
// RFC 9110 11.1); malformed, that it cannot be read as exactly one token.
func bearerCredential(h http.Header) (raw string, found, malformed bool) {
	vals := h["Authorization"]
	for _, v := range vals {
		scheme, rest, _ := strings.Cut(v, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			continue
		}
		raw = strings.TrimLeft(rest, " ")
		// Two Authorization headers, or a token with spaces in it: which
		// one is meant is ambiguous, and guessing is how smuggling starts.
		return raw, true, len(vals) != 1 || raw == "" || strings.ContainsAny(raw, " \t")
	}
	return "", false, false
}

// decideBearer is decide for a request carrying a bearer token on route
// rt. The route's other credential (the session cookie) is not consulted:
// a client that sends a token means that token.
func (s *Server) decideBearer(r *http.Request, rt *route, raw string, malformed bool) decision {
	d := decision{route: rt}
	switch {
	case rt.Public && rt.bearer == nil:
		// Not the gateway's token to judge: the app behind a public route
		// may well check its own. It passes on, without identity.
		d.outcome = outcomePublic
		return d
	case malformed:
		s.metrics.decisions.unauthenticated.Inc()
		d.outcome = outcomeUnauthenticated
		d.err = challenge(http.StatusBadRequest, errInvalidRequest, errors.New("ambiguous bearer credentials"))
		return d
	case rt.bearer == nil:
		s.metrics.decisions.unauthenticated.Inc()
		d.outcome = outcomeUnauthenticated
		d.err = challenge(http.StatusUnauthorized, errInvalidToken,
			errors.New("bearer tokens are not accepted on route "+rt.Name))
		return d
	}
	tok, err := rt.bearer.Verify(r.Context(), raw)
	switch {
	case errors.Is(err, bearer.ErrUnavailable):
		// The token could not be judged: the gateway's trouble, not the
		// client's, so not a 401 that would make it drop a good token.
		d.outcome = outcomeUnavailable
		d.err = &httpError{status: http.StatusServiceUnavailable, msg: errBearerUnavailable, err: err, machine: true}
		return d
	case err != nil:
		s.metrics.decisions.unauthenticated.Inc()
		d.outcome = outcomeUnauthenticated
		d.err = challenge(http.StatusUnauthorized, errInvalidToken, err)
		return d
	}
	d.who.tok = tok
	if !rt.allows(d.who) {
		s.metrics.decisions.forbidden.Inc()
		d.outcome = outcomeForbidden
		d.err = &httpError{status: http.StatusForbidden, msg: errForbidden, machine: true,
			err: errors.New("client " + tok.ClientID + " not allowed on route " + rt.Name)}
		if !tok.HasScopes(rt.Allow.Scopes) {
			why := "client " + tok.ClientID + " lacks a scope route " + rt.Name + " requires"
			if len(tok.Scopes) == 0 {
				// Some issuers grant scopes in the token response but
				// write none into the token (zitadel's library does):
				// the log points at the issuer, not the client's request.
				why = "the token of client " + tok.ClientID + " carries no scope (no scope or scp claim), and route " +
					rt.Name + " requires scopes"
			}
			d.err = challenge(http.StatusForbidden, errInsufficientScope, errors.New(why))
		}
		return d
	}
	s.metrics.decisions.allowed.Inc()
	d.outcome = outcomeAllowed
	return d
}

// challenge is a refusal of a bearer request (RFC 6750 3): the error code
// is both the message key and the WWW-Authenticate error, and the answer
// is JSON, never the HTML page or a redirect, whatever Accept says.
func challenge(status int, code errKey, cause error) *httpError {
	return &httpError{status: status, msg: code, err: cause, machine: true, challenge: string(code)}
}

// scopeRule: a bearer token that grants every listed scope.
type scopeRule []string

func (r scopeRule) allows(p principal) bool { return p.tok != nil && p.tok.HasScopes(r) }

// clientRule: a bearer token issued to a listed client.
type clientRule []string

func (r clientRule) allows(p principal) bool {
	return p.tok != nil && slices.Contains(r, p.tok.ClientID)
}

// identityOfToken is what upstreams learn about a machine client.
func identityOfToken(t *bearer.Token) identity {
	return identity{
		User:     "client:" + t.ClientID,
		Provider: "bearer",
		Scopes:   t.ScopeText,
	}
}
