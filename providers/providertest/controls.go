package providertest

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// The test controls below are safe for concurrent use with serving.

// AutoApprove makes /authorize redirect at once with a code for userID;
// "" shows the consent page again (the default).
func (f *Fake) AutoApprove(userID string) { f.mu.Lock(); f.autoApprove = userID; f.mu.Unlock() }

// DenyConsent makes /authorize redirect with error=access_denied. It wins
// over AutoApprove.
func (f *Fake) DenyConsent(deny bool) { f.mu.Lock(); f.deny = deny; f.mu.Unlock() }

// SetLatency makes every endpoint wait d before answering; a request whose
// context ends first gets no answer.
func (f *Fake) SetLatency(d time.Duration) { f.mu.Lock(); f.latency = d; f.mu.Unlock() }

// SetDown makes every endpoint fail: Google 503 HTML, Kakao 503 JSON
// (code -9798, "under maintenance"), Naver 500 HTML.
func (f *Fake) SetDown(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

// FailRefresh makes every refresh of userID's tokens fail with the
// provider's invalid_grant answer; "" clears all such failures.
func (f *Fake) FailRefresh(userID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if userID == "" {
		clear(f.failRefresh)
		return
	}
	f.failRefresh[userID] = true
}

// Requests returns the requests received so far (at most the last 1000).
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// RevokedTokens returns the known tokens named by accepted revoke, logout
// and unlink calls, in order. Revocation also ends the tokens issued with
// them; those are not listed.
func (f *Fake) RevokedTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.revoked...)
}

func (f *Fake) record(p string, r *http.Request) {
	req := Request{Path: p, Method: r.Method, Form: cloneValues(r.Form),
		PostForm: cloneValues(r.PostForm), Header: r.Header.Clone()}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) >= maxRequests {
		f.requests = append(f.requests[:0:0], f.requests[1:]...)
	}
	f.requests = append(f.requests, req)
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return url.Values{}
	}
	return url.Values(http.Header(v).Clone())
}

// wait sleeps for the configured latency; false means the client left.
func (f *Fake) wait(ctx context.Context) bool {
	f.mu.Lock()
	d := f.latency
	f.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (f *Fake) serveDown(w http.ResponseWriter) {
	switch f.kind {
	case Kakao:
		writeJSON(w, http.StatusServiceUnavailable, kakaoAPIError{Msg: "service under maintenance", Code: -9798})
	case Naver:
		writeHTML(w, http.StatusInternalServerError, "<html><body><h1>500 Internal Server Error</h1></body></html>")
	default:
		writeHTML(w, http.StatusServiceUnavailable, "<html><body><h1>503. That’s an error.</h1></body></html>")
	}
}

// serveMalformed answers a request whose query or body does not parse.
func (f *Fake) serveMalformed(w http.ResponseWriter) {
	if f.kind == Kakao {
		writeJSON(w, http.StatusBadRequest, kakaoOAuthError{Error: "invalid_request", Description: "malformed request"})
		return
	}
	writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "malformed request"})
}
