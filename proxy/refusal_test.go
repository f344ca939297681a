package proxy

import (
	"errors"
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
