package session

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// Replay is a browser form POST that reached a protected route without a
// session, kept to be delivered to URL once the user has signed in (see
// proxy/replay.go for the flow). It is kept like a login state: encoded
// with the login codec, charged to the pending-login budget, sealed in
// Redis, gone after LoginStateTTL, and bound to its browser by an entry in
// the signed login cookie.
type Replay struct {
	URL         string
	ContentType string
	Body        []byte
	// SessionID binds a replay armed after the callback to the session the
	// callback started: no other browser or session can spend it.
	SessionID string
}

// Login-cookie entries of kept forms: parked (no session yet) and armed
// (for the session the login started). Provider states are bare base64url
// and never contain '.'; the URL's tag lets the cookie answer "is there a
// form for this URL" without a store round trip.
const (
	replayParked = "p."
	replayArmed  = "r."
)

// replay returns st.Replay, made when missing (the codec fills it in).
func (st *LoginState) replay() *Replay {
	if st.Replay == nil {
		st.Replay = new(Replay)
	}
	return st.Replay
}

// replayTag names a URL in a login-cookie entry.
func replayTag(u string) string {
	h := sha256.Sum256([]byte(u))
	return "." + base64.RawURLEncoding.EncodeToString(h[:9])
}

// ParkReplay keeps rp, the form of a browser that has no session, for the
// login that browser is about to start (BeginLogin's budget and errors
// apply). rp.URL is at most MaxLoginRedirect bytes.
func (m *Manager) ParkReplay(ctx context.Context, b LoginBinding, client netip.Addr, rp *Replay) error {
	cp := *rp
	cp.SessionID = ""
	return m.keepReplay(ctx, b, client, replayParked, &cp)
}

// ArmReplay keeps rp for sessionID, the session a login just started,
// to be taken by that session's next request to rp.URL.
func (m *Manager) ArmReplay(ctx context.Context, b LoginBinding, client netip.Addr, rp *Replay, sessionID string) error {
	if !validID(sessionID) {
		return fmt.Errorf("session arm replay: %w: no session", ErrLoginInvalid)
	}
	cp := *rp
	cp.SessionID = sessionID
	return m.keepReplay(ctx, b, client, replayArmed, &cp)
}

func (m *Manager) keepReplay(ctx context.Context, b LoginBinding, client netip.Addr, prefix string, rp *Replay) error {
	if b.c == nil {
		return errors.New("session keep replay: no login binding")
	}
	if rp.URL == "" || len(rp.URL) > MaxLoginRedirect {
		return fmt.Errorf("session keep replay: %w: url of %d bytes", ErrLoginInvalid, len(rp.URL))
	}
	ls := LoginState{Redirect: rp.URL, Replay: rp}
	if err := m.pend(ctx, b, client, prefix+newToken()+replayTag(rp.URL), &ls); err != nil {
		return fmt.Errorf("session keep replay: %w", err)
	}
	return nil
}

// HasReplay reports, from the login cookie alone, whether this browser
// has a form kept for url: parked (sessionID "") or armed for a session.
func (m *Manager) HasReplay(b LoginBinding, url string, armed bool) bool {
	_, i := findReplay(b.pending(), url, armed)
	return i >= 0
}

// TakeReplay returns the form this browser kept for url, once: parked
// (sessionID "") or armed for sessionID. The entry leaves the login cookie
// either way. ErrNotFound when there is none, it was taken already, it
// expired or it belongs to another session.
func (m *Manager) TakeReplay(ctx context.Context, b LoginBinding, url, sessionID string) (*Replay, error) {
	if b.c == nil {
		return nil, errors.New("session take replay: no login binding")
	}
	pending := b.pending()
	entry, i := findReplay(pending, url, sessionID != "")
	if i < 0 {
		return nil, ErrNotFound
	}
	b.setPending(slices.Delete(slices.Clone(pending), i, i+1))
	data, err := m.store.TakeLoginState(ctx, entry)
	if err != nil {
		return nil, fmt.Errorf("session take replay: %w", err)
	}
	st, err := decodeLoginState(data)
	if err != nil || st.Replay == nil || st.Replay.URL != url || st.Replay.SessionID != sessionID ||
		m.now().Sub(st.CreatedAt) > LoginStateTTL {
		return nil, fmt.Errorf("session take replay: %w", ErrNotFound)
	}
	return st.Replay, nil
}

// findReplay returns the newest replay entry for url in pending.
func findReplay(pending []string, url string, armed bool) (string, int) {
	prefix := replayParked
	if armed {
		prefix = replayArmed
	}
	tag := replayTag(url)
	for i := len(pending) - 1; i >= 0; i-- {
		if e := pending[i]; strings.HasPrefix(e, prefix) && strings.HasSuffix(e, tag) {
			return e, i
		}
	}
	return "", -1
}

// pending is this browser's login-cookie entries as this response leaves
// them: what an earlier call in the same request wrote, else what the
// request brought. Several steps may touch the cookie in one request (the
// callback finishes a login and arms its form), and each must see the
// last.
func (b LoginBinding) pending() []string {
	name := b.c.LoginName()
	lines := b.w.Header()["Set-Cookie"]
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], name+"=") {
			pair, _, _ := strings.Cut(lines[i], ";")
			return b.c.readLogin(&http.Request{Header: http.Header{"Cookie": {pair}}})
		}
	}
	return b.c.readLogin(b.r)
}

// setPending writes the login cookie, replacing one this response set.
func (b LoginBinding) setPending(states []string) {
	name := b.c.LoginName()
	h := b.w.Header()
	if lines := h["Set-Cookie"]; len(lines) > 0 {
		h["Set-Cookie"] = slices.DeleteFunc(slices.Clone(lines), func(v string) bool { return strings.HasPrefix(v, name+"=") })
	}
	b.c.writeLogin(b.w, states)
}
