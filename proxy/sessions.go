package proxy

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/socialgate/socialgate/session"
)

// The person's own sessions: /oauth2/sessions lists them (every device
// signed in as this person; with accounts, with any linked identity), and
// /oauth2/sessions/end ends one or all but this one.

// sessionHandle names a session on the page and in the JSON without
// showing its ID: the ID is what the signed cookie carries, and a page
// (or a script that reads it) has no business knowing another device's.
func sessionHandle(id string) string {
	sum := sha256.Sum256([]byte("socialgate session handle\x00" + id))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

type sessionRow struct {
	ID        string    `json:"id"`
	Current   bool      `json:"current"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"last_seen"`
	UserAgent string    `json:"user_agent"`
	IP        string    `json:"ip"`
	// For the page only.
	Device   string `json:"-"`
	Provider string `json:"-"`
}

type sessionsPage struct {
	Lang     lang
	Sessions []sessionRow
	CSRF     string
	Others   bool
}

// sessionsPage answers HTML, or JSON to Accept: application/json.
func (s *Server) sessionsPage(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.ownPage(w, r, "/oauth2/sessions")
	if sess == nil {
		return err
	}
	own, err := s.sessions.OwnSessions(r.Context(), sess)
	if err != nil {
		return storeError(err)
	}
	l := langFor(r)
	page := sessionsPage{Lang: l, CSRF: sess.CSRF}
	for _, o := range own {
		b, os := deviceOf(o.UserAgent)
		dev := strings.Trim(b+" · "+os, " ·")
		if dev == "" {
			dev = text(l, "sessions_unknown_device")
		}
		row := sessionRow{ID: sessionHandle(o.ID), Current: o.ID == sess.ID, Created: o.CreatedAt.UTC(),
			LastSeen: o.LastSeen.UTC(), UserAgent: o.UserAgent, IP: o.IP, Device: dev, Provider: o.Provider}
		page.Others = page.Others || !row.Current
		page.Sessions = append(page.Sessions, row)
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") && !wantsHTML(r) {
		if page.Sessions == nil {
			page.Sessions = []sessionRow{}
		}
		// The CSRF token too, so that a script on the gateway's origin can
		// POST /oauth2/sessions/end without scraping the page. Other origins
		// cannot read this answer (no CORS), so it tells them nothing.
		writeJSON(w, http.StatusOK, struct {
			Sessions []sessionRow `json:"sessions"`
			CSRF     string       `json:"csrf"`
		}{page.Sessions, page.CSRF})
		return nil
	}
	return s.pages.render(w, http.StatusOK, "sessions.html", page)
}

// endSessions ends one of the person's sessions (id, as the page names
// it) or every one but this (others=1). Ending this one signs it out.
func (s *Server) endSessions(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return errorf(http.StatusBadRequest, errBadRequest, err)
	}
	sess, err := s.ownPage(w, r, "/oauth2/sessions")
	if sess == nil {
		return err
	}
	if err := checkCSRF(r, sess, "/oauth2/sessions"); err != nil {
		return err
	}
	ctx := r.Context()
	own, err := s.sessions.OwnSessions(ctx, sess)
	if err != nil {
		return storeError(err)
	}
	others, handle := r.PostForm.Get("others") == "1", r.PostForm.Get("id")
	if !others && handle == "" {
		return errorf(http.StatusBadRequest, errBadRequest, errors.New("neither id nor others=1"))
	}
	n, endedCurrent := 0, false
	for _, o := range own {
		switch {
		case others && o.ID == sess.ID, !others && sessionHandle(o.ID) != handle:
			continue
		}
		if err := s.sessions.EndOwnSession(ctx, sess, o.ID); err != nil && !errors.Is(err, session.ErrNotFound) {
			return storeError(err)
		}
		n++
		endedCurrent = endedCurrent || o.ID == sess.ID
	}
	if !others && n == 0 {
		he := errorf(http.StatusNotFound, errSessionGone, nil)
		he.retry = "/oauth2/sessions"
		return he
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "sessions ended by their user",
		slog.String("request_id", requestID(ctx)), slog.String("user", identityOf(sess).User), slog.Int("sessions", n))
	if endedCurrent {
		s.cookies.ClearSession(w)
		redirectTo(w, "/oauth2/sign_in", http.StatusSeeOther)
		return nil
	}
	if !wantsHTML(r) {
		writeJSON(w, http.StatusOK, map[string]int{"ended": n})
		return nil
	}
	redirectTo(w, "/oauth2/sessions", http.StatusSeeOther)
	return nil
}

// deviceOf names a browser for people ("Chrome · Windows", "KakaoTalk ·
// iOS") from its User-Agent, for the sessions page. It only reads
// well-known tokens, in an order that handles the usual impersonation
// (Edge and Samsung Internet claim to be Chrome, Chrome claims Safari);
// anything else is "" and the page says "unknown device". The input is
// cut to 512 bytes: it is what a client chose to send.
func deviceOf(ua string) (browser, os string) {
	if len(ua) > 512 {
		ua = ua[:512]
	}
	for _, b := range []struct{ token, name string }{
		{"KAKAOTALK", "KakaoTalk"},
		{"NAVER(inapp", "Naver app"},
		{" Line/", "LINE"},
		{"Instagram", "Instagram"},
		{"FBAN", "Facebook"},
		{"FBAV", "Facebook"},
		{"Whale/", "Whale"},
		{"SamsungBrowser/", "Samsung Internet"},
		{"Edg/", "Edge"},
		{"EdgA/", "Edge"},
		{"EdgiOS/", "Edge"},
		{"OPR/", "Opera"},
		{"Firefox/", "Firefox"},
		{"FxiOS/", "Firefox"},
		{"CriOS/", "Chrome"},
		{"Chrome/", "Chrome"},
		{"Safari/", "Safari"},
		{"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	for _, o := range []struct{ token, name string }{
		{"iPhone", "iOS"},
		{"iPad", "iPadOS"},
		{"Android", "Android"},
		{"Windows", "Windows"},
		{"Mac OS X", "macOS"},
		{"Macintosh", "macOS"},
		{"CrOS", "ChromeOS"},
		{"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			os = o.name
			break
		}
	}
	return browser, os
}
