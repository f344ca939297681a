package session

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
)

const (
	// MaxPendingLogins bounds the login states one browser keeps in its
	// login cookie; BeginLogin drops the oldest from the store beyond it.
	MaxPendingLogins = 5

	// DefaultCookieName is the cookie name when CookieOptions.Name is empty.
	DefaultCookieName = "_socialgate"

	// sessionSignMaxAge caps the signed timestamp of a browser-session
	// cookie (MaxAge zero); the store enforces the real lifetime.
	sessionSignMaxAge = 30 * 24 * time.Hour
	// maxCookieLen matches securecookie's default and what browsers store.
	maxCookieLen = 4096
	// maxCookieTries bounds the HMACs computed for one request when several
	// cookies share a name (cookie tossing from a sibling subdomain).
	maxCookieTries = 8

	cookieInfo   = "socialgate cookie"
	hostPrefix   = "__Host-"
	securePrefix = "__Secure-"
	loginSuffix  = "_login"
)

// CookieOptions configures Cookies.
type CookieOptions struct {
	// Name is the base cookie name. Zero: "_socialgate".
	Name string
	// Secret is required, at least 32 bytes. The HMAC-SHA256 signing key is
	// derived from it with HKDF-SHA256 (info "socialgate cookie"), so the
	// same secret can also seal store values under another derivation.
	Secret []byte
	// PreviousSecrets are still accepted when reading, never used for
	// writing, so a secret can be rotated without signing everyone out.
	PreviousSecrets [][]byte
	// Domain shares the cookies across subdomains (".example.com"). Zero:
	// host-only.
	Domain string
	// Secure marks the cookies Secure; with an empty Domain it also adds
	// the "__Host-" prefix.
	Secure bool
	// SameSite zero means Lax: the provider's redirect back is a top-level
	// GET, so Lax cookies still arrive at the callback.
	SameSite http.SameSite
	// MaxAge is the session cookie's Max-Age and the maximum age of its
	// signed timestamp. Zero: a browser-session cookie whose signature is
	// accepted for 30 days (the store decides when the session ends).
	MaxAge time.Duration
	// Now is the clock the session cookie is signed and checked against.
	// The login cookie is gorilla/sessions' and stamps the wall clock; its
	// 10 minutes are enforced on this clock by the login state itself
	// (Manager.FinishLogin). Zero: time.Now.
	Now func() time.Time
}

// Cookies reads and writes the gateway's two cookies: the session cookie
// (an opaque session ID) and the login cookie (the pending login states of
// this browser). Both are HMAC-signed, not encrypted: neither value is
// secret from its own browser, but neither may be forged.
//
// The session cookie is read on every proxied request, so it has its own
// pooled verifier (cookie_verify.go) and is signed on the injected clock.
// The login cookie is a gorilla/sessions CookieStore (login_cookie.go):
// written twice per login, it gains nothing from a faster path.
type Cookies struct {
	name     string
	domain   string
	secure   bool
	sameSite http.SameSite
	maxAge   time.Duration
	now      func() time.Time

	session []securecookie.Codec // securecookie's reading, the reference verify is held to (tests)
	login   *loginCookie
	verify  *sessionVerifier // signs and reads the session cookie, cheaply
}

// NewCookies checks o and derives the signing keys.
func NewCookies(o CookieOptions) (*Cookies, error) {
	if o.Name == "" {
		o.Name = DefaultCookieName
	}
	if !validCookieName(o.Name) {
		return nil, fmt.Errorf("cookie name %q: only letters, digits and !#$%%&'*+-.^_`|~ are allowed", o.Name)
	}
	for _, p := range []string{hostPrefix, securePrefix} {
		if strings.HasPrefix(strings.ToLower(o.Name), strings.ToLower(p)) {
			return nil, fmt.Errorf("cookie name %q: leave out the %s prefix, it is added when needed", o.Name, p)
		}
	}
	if o.MaxAge < 0 || (o.MaxAge > 0 && o.MaxAge < time.Second) {
		return nil, errors.New("cookie max age: zero or at least 1s")
	}
	if o.SameSite == 0 {
		o.SameSite = http.SameSiteLaxMode
	}
	if o.SameSite == http.SameSiteNoneMode && !o.Secure {
		// Browsers drop SameSite=None cookies that are not Secure.
		return nil, errors.New("cookie same_site none: requires secure")
	}
	signAge := sessionSignMaxAge
	if o.MaxAge > 0 {
		signAge = o.MaxAge
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Cookies{name: o.Name, domain: o.Domain, secure: o.Secure, sameSite: o.SameSite, maxAge: o.MaxAge, now: o.Now}
	var keys [][]byte
	for i, sec := range append([][]byte{o.Secret}, o.PreviousSecrets...) {
		if len(sec) < MinSecretLen {
			if i == 0 {
				return nil, fmt.Errorf("cookie secret: at least %d bytes, got %d", MinSecretLen, len(sec))
			}
			return nil, fmt.Errorf("cookie previous secret %d: at least %d bytes, got %d", i, MinSecretLen, len(sec))
		}
		key, err := hkdf.Key(sha256.New, sec, nil, cookieInfo, 32)
		if err != nil {
			return nil, fmt.Errorf("cookie key: %w", err)
		}
		c.session = append(c.session, newCodec(key, signAge, securecookie.NopEncoder{}))
		keys = append(keys, key)
	}
	c.verify = newSessionVerifier(c.SessionName(), keys, signAge)
	c.login = newLoginCookie(c, keys)
	return c, nil
}

func newCodec(key []byte, maxAge time.Duration, sz securecookie.Serializer) *securecookie.SecureCookie {
	// No block key: the values are not secret, only their integrity is.
	return securecookie.New(key, nil).
		MaxAge(int(maxAge / time.Second)).
		MaxLength(maxCookieLen).
		SetSerializer(sz)
}

// SessionName is the session cookie's name: "__Host-" + Name when the
// cookie is Secure and host-only, else Name.
func (c *Cookies) SessionName() string {
	if c.secure && c.domain == "" {
		return hostPrefix + c.name
	}
	return c.name
}

// LoginName is the login cookie's name.
func (c *Cookies) LoginName() string { return c.SessionName() + loginSuffix }

// IsGatewayCookie reports whether name is one of the gateway's cookies in
// any form (with or without a "__Host-" or "__Secure-" prefix, any case), so
// that the proxy can strip them before the request goes upstream. Matching
// is lenient on purpose: stripping one cookie too many is harmless, leaking
// the session cookie to an upstream is not.
func (c *Cookies) IsGatewayCookie(name string) bool {
	for _, p := range []string{hostPrefix, securePrefix} {
		if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
			name = name[len(p):]
			break
		}
	}
	return strings.EqualFold(name, c.name) || strings.EqualFold(name, c.name+loginSuffix)
}

// ReadSession returns the session ID from the request's session cookie.
// ok is false when the cookie is missing, tampered with, truncated, too
// long, older than its signed max age, or signed with a key that is neither
// the current secret nor a previous one. When several cookies carry the
// name, the first that verifies wins.
func (c *Cookies) ReadSession(r *http.Request) (id string, ok bool) {
	now := c.now().Unix()
	for i, ck := range r.CookiesNamed(c.SessionName()) {
		if i == maxCookieTries {
			break
		}
		if id, ok := c.verify.verify(ck.Value, now); ok {
			return id, true
		}
	}
	return "", false
}

// WriteSession sets the session cookie to id.
func (c *Cookies) WriteSession(w http.ResponseWriter, id string) {
	name := c.SessionName()
	v := c.verify.sign(id, c.now().Unix())
	if len(v) > maxCookieLen {
		// Only an ID longer than a cookie can hold gets here; the Manager
		// never makes one. Clearing beats leaving a stale session behind.
		c.ClearSession(w)
		return
	}
	http.SetCookie(w, c.cookie(name, v, c.maxAge))
}

// ClearSession expires the session cookie.
func (c *Cookies) ClearSession(w http.ResponseWriter) {
	http.SetCookie(w, c.cookie(c.SessionName(), "", -1))
}

// readLogin returns this browser's pending login states, oldest first.
func (c *Cookies) readLogin(r *http.Request) []string { return c.login.read(r) }

// writeLogin sets the login cookie to states, oldest first; none clears it.
func (c *Cookies) writeLogin(w http.ResponseWriter, states []string) { c.login.write(w, states) }

// cookie builds a cookie with the shared attributes. maxAge zero makes a
// browser-session cookie; negative deletes it.
func (c *Cookies) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	ck := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Domain:   c.domain,
		Secure:   c.secure,
		HttpOnly: true,
		SameSite: c.sameSite,
	}
	switch {
	case maxAge < 0:
		ck.MaxAge = -1
	case maxAge > 0:
		ck.MaxAge = int(maxAge / time.Second)
	}
	return ck
}

// validCookieName reports whether name is an RFC 6265 token.
func validCookieName(name string) bool {
	for i := 0; i < len(name); i++ {
		b := name[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0:
		default:
			return false
		}
	}
	return name != ""
}
