package providertest

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Silent sign-in (prompt=none), as Kakao and Google answer it. The real
// providers know the browser by their own account cookie and remember which
// apps each user agreed to. The fake does the same: allowing on the consent
// page sets an account cookie on the fake's origin (path: BaseURL's path)
// and records the consent of that user for that client. Then:
//
//   - no account cookie (or an unknown user in it): error=login_required;
//   - signed in, but this client was never agreed to (or the consent was
//     revoked, ForgetConsent): error=consent_required;
//   - signed in and agreed: a code for that user, without a page.
//
// AutoApprove and DenyConsent still win over all of this.

// accountCookie names the fake's account cookie.
func (f *Fake) accountCookie() string { return "fake_" + f.kind + "_account" }

// consents are the (user, client) pairs that were agreed to.
type consents struct {
	mu   sync.Mutex
	seen map[string]bool // userID + "\x00" + clientID
}

func (c *consents) add(user, client string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	c.seen[user+"\x00"+client] = true
}

func (c *consents) has(user, client string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[user+"\x00"+client]
}

func (c *consents) forget(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.seen {
		if strings.HasPrefix(k, user+"\x00") {
			delete(c.seen, k)
		}
	}
}

// ForgetConsent drops every consent userID gave (the user unlinked the app
// in their account settings); the browser stays signed in to the fake, so
// a silent sign-in answers consent_required.
func (f *Fake) ForgetConsent(userID string) { f.agreed.forget(userID) }

// rememberLogin marks this browser as signed in to the fake as userID and
// records the consent, after the user allowed on the consent page.
func (f *Fake) rememberLogin(w http.ResponseWriter, userID, clientID string) {
	f.agreed.add(userID, clientID)
	path := f.basePath + "/"
	http.SetCookie(w, &http.Cookie{Name: f.accountCookie(), Value: url.QueryEscape(userID), Path: path,
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// silentSignIn answers prompt=none.
func (f *Fake) silentSignIn(w http.ResponseWriter, r *http.Request, a authRequest) {
	user := ""
	if c, err := r.Cookie(f.accountCookie()); err == nil {
		if id, err := url.QueryUnescape(c.Value); err == nil {
			if _, ok := f.user(id); ok {
				user = id
			}
		}
	}
	switch {
	case user == "":
		f.redirectBack(w, r, a, url.Values{"error": {"login_required"},
			"error_description": {"user authentication required."}})
	case !f.agreed.has(user, a.clientID):
		f.redirectBack(w, r, a, url.Values{"error": {"consent_required"},
			"error_description": {"user consent required."}})
	default:
		f.redirectCode(w, r, a, user)
	}
}
