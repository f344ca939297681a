package proxy

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// handlerFunc is an HTTP handler that may fail. The adapter (Server.handle)
// turns the error into a response: the client sees a short message and the
// request ID, the log gets the cause.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// httpError is an error with the status and the client-facing message key.
// The wrapped cause is logged, never shown.
type httpError struct {
	status int
	msg    errKey // what the person and the API client are told (messages.go)
	err    error  // the cause, for the log; may be nil
	retry  string // optional "try again" link shown on the page
	// machine marks the answer to a bearer request: always JSON, never
	// the HTML page, with challenge (an RFC 6750 error code), when set,
	// in WWW-Authenticate.
	machine   bool
	challenge string
}

func (e *httpError) Error() string {
	if e.err != nil {
		return string(e.msg) + ": " + e.err.Error()
	}
	return string(e.msg)
}

func (e *httpError) Unwrap() error { return e.err }

func errorf(status int, msg errKey, cause error) *httpError {
	return &httpError{status: status, msg: msg, err: cause}
}

// How long to wait before trying again, sent as Retry-After (RFC 9110
// 10.2.3) on the answers that mean "not now" rather than "no". When the
// gateway will recover is not known, so these are modest guesses that keep
// scripts from hammering it, not promises.
const (
	// retryLogins: the pending-login budget (503) or a client's share of
	// it (429) frees as logins finish or their states expire
	// (session.LoginStateTTL, 10 minutes), at a time nobody can predict; a
	// minute spaces retries without making a person wait out the TTL.
	retryLogins = time.Minute
	// retryOutage: a store or an issuer's keys that do not answer is
	// usually a restart or a failover, over in seconds; the bearer
	// verifier itself tries an issuer's keys again every 5 s
	// (bearer.Options.RetryAfter's default).
	retryOutage = 5 * time.Second
)

// retryAfter is he's Retry-After, zero for none. It follows the message
// key, so every 429 and 503 of one kind gets it however it was built
// (errorf, storeError or a literal), in one place.
func retryAfter(he *httpError) time.Duration {
	if he.status != http.StatusTooManyRequests && he.status != http.StatusServiceUnavailable {
		return 0
	}
	switch he.msg {
	case errTooManyLogins, errLoginsFull:
		return retryLogins
	case errStoreUnavailable, errBearerUnavailable:
		return retryOutage
	}
	return 0
}

// requestIDs hands out unique request IDs cheaply: a random per-process
// prefix and a counter. They identify log lines, they are not secrets.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs(random []byte) *requestIDs {
	return &requestIDs{prefix: hex.EncodeToString(random)}
}

func (g *requestIDs) next() string {
	var buf [32]byte
	b := append(buf[:0], g.prefix...)
	b = append(b, '-')
	b = strconv.AppendUint(b, g.n.Add(1), 36)
	return string(b)
}

type ctxKey int

const requestIDKey ctxKey = iota

// requestState travels with every request in one context value: its ID
// and, on the way to an upstream, what serve decided for Rewrite. One
// value and one request copy per request, however many steps read them.
type requestState struct {
	id    string
	proxy proxyState
}

// withRequestID returns r carrying id (and room for the proxy's state).
func withRequestID(r *http.Request, id string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), requestIDKey, &requestState{id: id}))
}

// stateOf returns the request's state; nil outside Server.ServeHTTP.
func stateOf(ctx context.Context) *requestState {
	st, _ := ctx.Value(requestIDKey).(*requestState)
	return st
}

func requestID(ctx context.Context) string {
	if st := stateOf(ctx); st != nil {
		return st.id
	}
	return ""
}

// handle adapts a handlerFunc to http.Handler.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// writeError answers with err's status and logs its cause. Anything that is
// not an *httpError is a bug or an unexpected failure: 500, but logged.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{status: http.StatusInternalServerError, msg: errInternal, err: err}
	}
	level := slog.LevelInfo
	if he.status >= 500 {
		level = slog.LevelError
	}
	s.log.LogAttrs(r.Context(), level, "request failed",
		slog.String("request_id", requestID(r.Context())),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", he.status),
		slog.String("reason", string(he.msg)),
		slog.Any("error", he.err),
	)
	if he.challenge != "" {
		w.Header().Set("WWW-Authenticate", `Bearer error="`+he.challenge+`"`)
	}
	if d := retryAfter(he); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(d/time.Second)))
	}
	if wantsHTML(r) && !he.machine {
		s.renderError(w, r, he)
		return
	}
	writeJSON(w, he.status, map[string]string{
		"error":      string(he.msg),
		"message":    text(langFor(r), "err_"+string(he.msg)),
		"request_id": requestID(r.Context()),
	})
}

// wantsHTML tells a browser navigation from an API client.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
