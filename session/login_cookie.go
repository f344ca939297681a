package session

import (
	"net/http"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// loginCookie binds pending logins to the browser that started them: it
// lists their states, and a callback whose state is not listed is refused.
//
// It is a gorilla/sessions CookieStore, whose model fits this cookie
// exactly: a small signed value with a max age, read and written a couple
// of times per login, with key rotation through a list of codecs (the
// current secret signs, previous_secrets still verify). The session cookie
// stays on its own pooled verifier: it is read on every proxied request.
//
// securecookie stamps and checks the signature's age on the wall clock;
// that is a backstop only. The 10 minutes a login may take are enforced on
// the Manager's clock by the login state itself (FinishLogin).
type loginCookie struct {
	store *sessions.CookieStore
	name  string
}

// statesKey is the session value holding the pending states ([]string,
// which encoding/gob knows without registration).
const statesKey = "s"

func newLoginCookie(c *Cookies, keys [][]byte) *loginCookie {
	var pairs [][]byte
	for _, k := range keys {
		// No block key: the states are not secret from their own browser
		// (each is also in the provider's redirect), only their integrity
		// matters.
		pairs = append(pairs, k, nil)
	}
	st := sessions.NewCookieStore(pairs...)
	for _, codec := range st.Codecs {
		if sc, ok := codec.(*securecookie.SecureCookie); ok {
			sc.MaxLength(maxCookieLen)
		}
	}
	st.MaxAge(int(LoginStateTTL.Seconds()))
	same := c.sameSite
	if same == http.SameSiteStrictMode {
		// The provider's redirect back is cross-site: a Strict login
		// cookie would never reach the callback and every login would fail.
		same = http.SameSiteLaxMode
	}
	st.Options.Domain = c.domain
	st.Options.Secure = c.secure
	st.Options.HttpOnly = true
	st.Options.SameSite = same
	return &loginCookie{store: st, name: c.LoginName()}
}

// read returns the pending states of the first login cookie that verifies.
// CookieStore.New reads only the first cookie of the name, so a cookie
// tossed from a sibling subdomain in front of ours would hide it; the rest
// are tried with the store's codecs, a bounded number of them.
func (l *loginCookie) read(r *http.Request) []string {
	if s, err := l.store.New(r, l.name); err == nil && !s.IsNew {
		if states, ok := s.Values[statesKey].([]string); ok {
			return states
		}
	}
	for i, ck := range r.CookiesNamed(l.name) {
		if i == 0 {
			continue // CookieStore.New tried it
		}
		if i == maxCookieTries {
			break
		}
		var v map[any]any
		if securecookie.DecodeMulti(l.name, ck.Value, &v, l.store.Codecs...) == nil {
			if states, ok := v[statesKey].([]string); ok {
				return states
			}
		}
	}
	return nil
}

// write sets the cookie to states (the newest MaxPendingLogins of them);
// none, or a value too long for a cookie, clears it.
func (l *loginCookie) write(w http.ResponseWriter, states []string) {
	if len(states) > MaxPendingLogins {
		states = states[len(states)-MaxPendingLogins:]
	}
	s := sessions.NewSession(l.store, l.name)
	opts := *l.store.Options
	s.Options = &opts
	if len(states) > 0 {
		s.Values[statesKey] = states
		if l.store.Save(nil, w, s) == nil {
			return
		}
	}
	opts.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(l.name, "", &opts))
}
