package providertest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"time"
)

// authCode is an authorization code and everything it is bound to.
type authCode struct {
	clientID, redirectURI, userID string
	scope, nonce, state           string
	challenge, method             string
	offline, promptConsent        bool
	authTime, expires             time.Time
}

// grant is one successful code exchange: the tokens it issued live and
// die together (revocation, Kakao logout).
type grant struct {
	userID, clientID, scope, nonce string
	authTime                       time.Time
	refreshToken                   string
	refreshExpires                 time.Time // zero: never
	revoked                        bool
	sid                            string // the issuer's session (logout.go)
}

type accessToken struct {
	g       *grant
	expires time.Time
}

// tokenState says why a bearer token was refused.
type tokenState int

const (
	tokenOK tokenState = iota
	tokenUnknown
	tokenExpired
)

// sweepAt is the store size above which expired entries are dropped, so a
// long-running demo does not grow without bound.
const sweepAt = 1024

// randString returns prefix and n random bytes, base64url.
func randString(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// codeValue mints a code in the provider's style. Google's contain a
// slash, which a client must escape and unescape correctly.
func (f *Fake) codeValue() string {
	switch f.kind {
	case Google:
		return randString("4/0A", 54)
	case Naver:
		return strings.ToUpper(rand.Text())[:18]
	default:
		return randString("", 64)
	}
}

func (f *Fake) accessValue() string {
	switch f.kind {
	case Google:
		return randString("ya29.a0", 96)
	case Naver:
		return randString("AAAAO", 96)
	default:
		return randString("", 40)
	}
}

func (f *Fake) refreshValue() string {
	if f.kind == Google {
		return randString("1//0e", 72)
	}
	return randString("", 40)
}

// issueCodeLocked stores a new code for u bound to a.
func (f *Fake) issueCodeLocked(userID string, a authRequest) string {
	now := f.now()
	if len(f.codes) > sweepAt {
		for k, c := range f.codes {
			if !now.Before(c.expires) {
				delete(f.codes, k)
			}
		}
	}
	v := f.codeValue()
	f.codes[v] = &authCode{
		clientID: a.clientID, redirectURI: a.redirectURI, userID: userID,
		scope: a.scope, nonce: a.nonce, state: a.state,
		challenge: a.challenge, method: a.method,
		offline: a.offline, promptConsent: a.prompt == "consent",
		authTime: now, expires: now.Add(f.codeTTL),
	}
	return v
}

// takeCodeLocked removes the code (single use) and returns it unless it
// is unknown, expired or issued to another client.
func (f *Fake) takeCodeLocked(v, clientID string) (*authCode, bool) {
	c, ok := f.codes[v]
	if !ok {
		return nil, false
	}
	delete(f.codes, v)
	if !f.now().Before(c.expires) || c.clientID != clientID {
		return nil, false
	}
	return c, true
}

// verifyPKCE checks a code_verifier against the code's challenge. A code
// issued without a challenge ignores any verifier (unconfirmed; the lenient
// reading of RFC 7636).
func verifyPKCE(c *authCode, verifier string) bool {
	if c.challenge == "" {
		return true
	}
	if !validPKCEString(verifier) {
		return false
	}
	got := verifier
	if c.method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		got = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(c.challenge)) == 1
}

// validPKCEString reports whether s is 43–128 unreserved characters
// (RFC 7636 §4.1), the form of both verifiers and S256 challenges.
func validPKCEString(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

func newGrant(c *authCode) *grant {
	return &grant{userID: c.userID, clientID: c.clientID, scope: c.scope,
		nonce: c.nonce, authTime: c.authTime, sid: newSID()}
}

// mintAccessLocked issues an access token for g.
func (f *Fake) mintAccessLocked(g *grant) string {
	now := f.now()
	if len(f.access) > sweepAt {
		for k, t := range f.access {
			if !now.Before(t.expires) {
				delete(f.access, k)
			}
		}
	}
	v := f.accessValue()
	f.access[v] = &accessToken{g: g, expires: now.Add(f.accessTTL)}
	return v
}

// mintRefreshLocked gives g a (new) refresh token; ttl 0 never expires.
// The old one, if any, stops working.
func (f *Fake) mintRefreshLocked(g *grant, ttl time.Duration) string {
	if g.refreshToken != "" {
		delete(f.refresh, g.refreshToken)
	}
	g.refreshToken = f.refreshValue()
	g.refreshExpires = time.Time{}
	if ttl > 0 {
		g.refreshExpires = f.now().Add(ttl)
	}
	f.refresh[g.refreshToken] = g
	return g.refreshToken
}

// lookupAccessLocked finds the grant behind a bearer token.
func (f *Fake) lookupAccessLocked(v string) (*grant, tokenState) {
	t, ok := f.access[v]
	if !ok || t.g.revoked {
		return nil, tokenUnknown
	}
	if !f.now().Before(t.expires) {
		return nil, tokenExpired
	}
	return t.g, tokenOK
}

// lookupRefreshLocked finds a live refresh token of clientID. FailRefresh
// users are refused here.
func (f *Fake) lookupRefreshLocked(v, clientID string) (*grant, bool) {
	g, ok := f.refresh[v]
	if !ok || g.revoked || g.clientID != clientID || f.failRefresh[g.userID] {
		return nil, false
	}
	if !g.refreshExpires.IsZero() && !f.now().Before(g.refreshExpires) {
		return nil, false
	}
	return g, true
}

// grantOfLocked finds the live grant of an access or refresh token.
func (f *Fake) grantOfLocked(v string) (*grant, bool) {
	if g, st := f.lookupAccessLocked(v); st == tokenOK {
		return g, true
	}
	if g, ok := f.refresh[v]; ok && !g.revoked {
		return g, true
	}
	return nil, false
}

// revokeGrantLocked ends every token of g; named is the token the client
// sent, for RevokedTokens.
func (f *Fake) revokeGrantLocked(g *grant, named string) {
	g.revoked = true
	if g.refreshToken != "" {
		delete(f.refresh, g.refreshToken)
	}
	f.revoked = append(f.revoked, named)
}

// unlinkLocked ends every token the user holds for the client, as when
// the user disconnects the app.
func (f *Fake) unlinkLocked(userID, clientID string) {
	for _, t := range f.access {
		if t.g.userID == userID && t.g.clientID == clientID {
			t.g.revoked = true
		}
	}
	for k, g := range f.refresh {
		if g.userID == userID && g.clientID == clientID {
			g.revoked = true
			delete(f.refresh, k)
		}
	}
	delete(f.offline, userID+" "+clientID)
}

// IssueCode mints a code for userID as if the user had approved an
// authorization request with a and redirectURI, for tests that skip the
// browser step. It returns "" for an unknown user.
func (f *Fake) IssueCode(userID string, redirectURI string, a AuthParams) string {
	if _, ok := f.user(userID); !ok {
		return ""
	}
	req := authRequest{clientID: f.o.ClientID, redirectURI: redirectURI, scope: a.Scope,
		state: a.State, prompt: a.Prompt, offline: a.AccessTypeOffline}
	if f.kind != Naver { // Naver ignores nonce and PKCE
		req.nonce = a.Nonce
		req.challenge = a.CodeChallenge
		req.method = a.CodeChallengeMethod
		if req.challenge != "" && req.method == "" {
			req.method = "plain"
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issueCodeLocked(userID, req)
}
