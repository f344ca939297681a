package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/socialgate/socialgate/session"
)

// A person fills in a long form, the session ends meanwhile, and the POST
// meets the sign-in page: without replay the form is lost. With
// Options.ReplayMaxBytes, the form is kept and delivered after the login:
//
//  1. park: the POST (urlencoded or multipart, from a page of the same
//     origin, at most ReplayMaxBytes) is stored sealed like a login state,
//     under a "p." entry of this browser's login cookie; the browser gets
//     303 to the sign-in page.
//  2. /oauth2/start takes the parked form into the login state it makes,
//     when the login returns to the form's URL.
//  3. the callback starts the session, stores the form again as an armed
//     replay bound to that session ID (an "r." entry of the login cookie),
//     and sends the browser to the form's URL as usual.
//  4. that GET, from that session, with that entry, takes the replay (one
//     atomic take: exactly once) and goes upstream as the original POST:
//     same URL, method, body and content type, with the identity headers.
//     The browser sees the app's answer to its form at the form's URL, so
//     the app's relative links, its redirect-after-POST and a reload (a
//     plain GET) all work as if the login had never happened.
//
// A 307 cannot do step 4 (the callback is a GET, and 307 repeats the
// method of the request it answers), and an auto-submitting page cannot
// rebuild a multipart body with its files byte for byte; doing the POST
// from the gateway can, and keeps the body out of any page.
//
// A cross-site POST is never parked: replaying it after the victim signs
// in would be a CSRF that outlives the missing session. Only a form whose
// Origin (or Sec-Fetch-Site) says it came from the URL's own origin is
// kept; anything else gets what it got before (401).

// replayable reports whether r is a browser form POST that may be parked.
func (s *Server) replayable(r *http.Request, origin string) bool {
	if s.opts.ReplayMaxBytes <= 0 || r.Method != http.MethodPost || !wantsHTML(r) {
		return false
	}
	switch ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct {
	case "application/x-www-form-urlencoded", "multipart/form-data":
	default:
		return false
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	return r.Header.Get("Origin") == origin
}

// originOf is the scheme://host of an absolute URL.
func originOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// park keeps a browser's form POST that has no session and sends the
// browser to sign in. It reports false when r is not a form it keeps.
func (s *Server) park(w http.ResponseWriter, r *http.Request, fwd forwardedInfo) (bool, error) {
	orig := s.originalURL(fwd)
	if !s.replayable(r, originOf(orig)) {
		return false, nil
	}
	limit := s.opts.ReplayMaxBytes
	if r.ContentLength > limit {
		return true, errorf(http.StatusRequestEntityTooLarge, errFormTooLarge,
			errors.New("form of "+strconv.FormatInt(r.ContentLength, 10)+" bytes not kept across the login"))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return true, errorf(http.StatusBadRequest, errBadRequest, err)
	}
	if int64(len(body)) > limit {
		return true, errorf(http.StatusRequestEntityTooLarge, errFormTooLarge,
			errors.New("chunked form over login.replay_max_bytes not kept across the login"))
	}
	client := fwd.ClientIP
	rp := &session.Replay{URL: orig, ContentType: r.Header.Get("Content-Type"), Body: body}
	if err := s.sessions.ParkReplay(r.Context(), s.cookies.Bind(w, r), client, rp); err != nil {
		return true, loginError(err)
	}
	w.Header().Set("Cache-Control", "no-store")
	// 303: the browser follows with a GET, never re-posting the form.
	redirectTo(w, s.signInURL(orig), http.StatusSeeOther)
	s.metrics.replays.WithLabelValues("parked").Inc()
	return true, nil
}

// takeParked returns the form parked for target by this browser, for
// the login start is making; nil when there is none.
func (s *Server) takeParked(ctx context.Context, b session.LoginBinding, target string) *session.Replay {
	if s.opts.ReplayMaxBytes <= 0 || !s.sessions.HasReplay(b, target, false) {
		return nil
	}
	rp, err := s.sessions.TakeReplay(ctx, b, target, "")
	if err != nil {
		return nil // expired or spent: the login goes on without it
	}
	return rp
}

// armReplay keeps the form of a finished login for the session that
// login started (callback). A failure costs the form, never the login.
func (s *Server) armReplay(w http.ResponseWriter, r *http.Request, st *session.LoginState, sessionID string) {
	client := readForwarded(r, s.opts.TrustedProxies).ClientIP
	if err := s.sessions.ArmReplay(r.Context(), s.cookies.Bind(w, r), client, st.Replay, sessionID); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "form replay dropped",
			slog.String("request_id", requestID(r.Context())), slog.Any("error", err))
		s.metrics.replays.WithLabelValues("dropped").Inc()
	}
}

// replayed turns the landing GET of a login that kept a form into that
// form's POST, once. r is returned unchanged when there is nothing to
// deliver here.
func (s *Server) replayed(w http.ResponseWriter, r *http.Request, sess *session.Session, fwd forwardedInfo) *http.Request {
	if r.Method != http.MethodGet || sess == nil || s.opts.ReplayMaxBytes <= 0 ||
		!strings.Contains(r.Header.Get("Cookie"), s.cookies.LoginName()) {
		return r
	}
	orig := s.originalURL(fwd)
	b := s.cookies.Bind(w, r)
	if !s.sessions.HasReplay(b, orig, true) {
		return r
	}
	rp, err := s.sessions.TakeReplay(r.Context(), b, orig, sess.ID)
	if err != nil {
		// Spent already, expired, or another session's: a plain GET.
		s.metrics.replays.WithLabelValues("refused").Inc()
		return r
	}
	out := r.Clone(r.Context())
	out.Method = http.MethodPost
	out.Body = io.NopCloser(bytes.NewReader(rp.Body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(rp.Body)), nil }
	out.ContentLength = int64(len(rp.Body))
	out.Header.Set("Content-Type", rp.ContentType)
	out.Header.Del("Content-Length")
	// Conditional headers were the GET's, not the form's.
	for _, h := range []string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range", "Range"} {
		out.Header.Del(h)
	}
	s.metrics.replays.WithLabelValues("delivered").Inc()
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "form replayed after sign-in",
		slog.String("request_id", requestID(r.Context())), slog.String("user", sess.User()),
		slog.Int("bytes", len(rp.Body)))
	return out
}
