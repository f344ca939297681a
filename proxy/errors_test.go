package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/socialgate/socialgate/session"
)

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
