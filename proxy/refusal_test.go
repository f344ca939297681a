package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/socialgate/socialgate/bearer"
	"github.com/socialgate/socialgate/session"
)

// TestDecisionRefusal: every outcome that does not permit a request has
// one answer for the reverse proxy and forward-auth alike; an outcome
// without its cause, or one refusal does not know, fails closed.
func TestDecisionRefusal(t *testing.T) {
	cookieRoute := &route{Route: Route{Name: "app"}}
	apiRoute := &route{Route: Route{Name: "api"}, bearer: new(bearer.Rule)}
	noRoute := errorf(http.StatusTeapot, errNoRoute, nil) // the mode's own answer
	bearerErr := challenge(http.StatusUnauthorized, errInvalidToken, errors.New("bad token"))
	storeDown := errorf(http.StatusServiceUnavailable, errStoreUnavailable, errors.New("redis down"))
	user := principal{sess: &session.Session{Provider: "kakao", Subject: "1"}}
	for _, tc := range []struct {
		name       string
		d          decision
		wantSignIn bool
		wantStatus int
		wantAuth   string
	}{
		{"no route", decision{}, false, http.StatusTeapot, ""},
		{"bad path", decision{outcome: outcomeBadPath}, false, http.StatusBadRequest, ""},
		{"store down", decision{outcome: outcomeUnavailable, route: cookieRoute, err: storeDown}, false, http.StatusServiceUnavailable, ""},
		{"store down, no cause", decision{outcome: outcomeUnavailable, route: cookieRoute}, false, http.StatusForbidden, ""},
		{"signed out", decision{outcome: outcomeUnauthenticated, route: cookieRoute}, true, 0, ""},
		{"signed out on a bearer route", decision{outcome: outcomeUnauthenticated, route: apiRoute}, true, 0, "Bearer"},
		{"bad token", decision{outcome: outcomeUnauthenticated, route: apiRoute, err: bearerErr}, false, http.StatusUnauthorized, ""},
		{"not allowed", decision{outcome: outcomeForbidden, route: cookieRoute, who: user}, false, http.StatusForbidden, ""},
		{"unknown outcome", decision{outcome: outcomePublic + 1, route: cookieRoute}, false, http.StatusForbidden, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			signIn, err := tc.d.refusal(w, noRoute)
			if signIn != tc.wantSignIn {
				t.Fatalf("signIn = %v, want %v", signIn, tc.wantSignIn)
			}
			var he *httpError
			switch {
			case tc.wantStatus == 0 && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tc.wantStatus != 0 && (!errors.As(err, &he) || he.status != tc.wantStatus):
				t.Fatalf("err = %v, want status %d", err, tc.wantStatus)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.wantAuth {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.wantAuth)
			}
		})
	}
}

// TestRetryAfter: the gateway's "not now" answers (a full login quota, the
// store or an issuer's keys down) say when to try again, on the page and
// in JSON alike; every other refusal, 503s of other kinds included, says
// nothing, since trying again would not help.
func TestRetryAfter(t *testing.T) {
	pg, err := newPages(UIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{log: slog.New(slog.DiscardHandler), pages: pg}
	down := errors.New("redis: connection refused")
	for _, tc := range []struct {
		name       string
		err        error
		wantStatus int
		want       string // Retry-After; "" for none
	}{
		{"client's login share full", loginError(fmt.Errorf("begin: %w", session.ErrClientLogins)), http.StatusTooManyRequests, "60"},
		{"login budget full", loginError(session.ErrLoginsFull), http.StatusServiceUnavailable, "60"},
		{"store down at sign-in", loginError(down), http.StatusServiceUnavailable, "5"},
		{"store down", storeError(down), http.StatusServiceUnavailable, "5"},
		{"issuer keys down", &httpError{status: http.StatusServiceUnavailable, msg: errBearerUnavailable, err: down, machine: true}, http.StatusServiceUnavailable, "5"},
		{"bad login state", loginError(session.ErrLoginInvalid), http.StatusBadRequest, ""},
		{"not found", errorf(http.StatusNotFound, errNotFound, nil), http.StatusNotFound, ""},
		{"upstream down", errorf(http.StatusBadGateway, errUpstream, down), http.StatusBadGateway, ""},
		{"a 503 of another kind", errorf(http.StatusServiceUnavailable, errInternal, down), http.StatusServiceUnavailable, ""},
		{"a store key on another status", errorf(http.StatusInternalServerError, errStoreUnavailable, down), http.StatusInternalServerError, ""},
		{"not an httpError", down, http.StatusInternalServerError, ""},
	} {
		for _, accept := range []string{"text/html", "application/json"} {
			t.Run(tc.name+"/"+accept, func(t *testing.T) {
				r := httptest.NewRequest(http.MethodGet, "/oauth2/start/kakao", nil)
				r.Header.Set("Accept", accept)
				w := httptest.NewRecorder()
				s.writeError(w, r, tc.err)
				if w.Code != tc.wantStatus {
					t.Fatalf("status %d, want %d", w.Code, tc.wantStatus)
				}
				got, sent := w.Header()["Retry-After"]
				switch {
				case tc.want == "" && sent:
					t.Errorf("Retry-After %q, want none", got)
				case tc.want != "" && w.Header().Get("Retry-After") != tc.want:
					t.Errorf("Retry-After %q, want %q", got, tc.want)
				}
			})
		}
	}
}
