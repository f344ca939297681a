// Package providers turns an OAuth 2.0 authorization code into a verified Identity.
//
// A provider is mostly data: its endpoints, its default scopes and a function
// that maps the provider's profile JSON to an Identity. One generic flow
// (state, PKCE, nonce, code exchange, id_token verification, refresh and
// revocation) serves Google, Naver and Kakao; generic OpenID Connect issuers
// and goth's catalogue are one more spec each (see spec.go), not yet written.
package providers

import (
	"errors"
	"time"
)

// Identity is who the provider says the user is, after verification.
type Identity struct {
	Provider      string `json:"provider"`
	Subject       string `json:"subject"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name,omitempty"`
	Picture       string `json:"picture,omitempty"`
	// SID is the provider's session ID, the id_token's "sid" claim (OIDC
	// Front- and Back-Channel Logout), when the provider sends one; the
	// gateway indexes sessions by it so a logout token naming it ends them.
	SID string `json:"sid,omitempty"`
}

// maxSIDLen bounds the sid kept from an id_token.
const maxSIDLen = 255

// User is the gateway-wide user key, "{provider}:{subject}".
func (id Identity) User() string { return id.Provider + ":" + id.Subject }

// Tokens are what the provider issued. They never leave the gateway and are
// never logged.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	IDToken      string
	// Expiry is when AccessToken stops working; zero means unknown.
	Expiry time.Time
}

// AuthRequest is the per-login secret material that the start of a login
// creates and the callback needs again. The proxy keeps it server-side in the
// login state; only State travels through the browser.
type AuthRequest struct {
	State    string
	Nonce    string // checked against the id_token for OIDC providers
	Verifier string // PKCE code_verifier; empty for providers without PKCE
	// Prompt and LoginHint are passed through when the provider supports them.
	Prompt    string
	LoginHint string
}

var (
	// ErrCodeRejected means the provider refused the authorization code:
	// reused, expired or issued to someone else. The user should retry (4xx).
	ErrCodeRejected = errors.New("authorization code rejected")
	// ErrInvalidGrant means the provider refused a refresh token: the user
	// unlinked the app or the token expired. The session must end.
	ErrInvalidGrant = errors.New("refresh token rejected")
	// ErrProvider means the provider failed or answered nonsense (5xx, bad
	// JSON, a failed id_token verification). The gateway answers 502.
	ErrProvider = errors.New("provider error")
)
