package providers

import (
	"context"
	"strings"
	"unicode"
)

// spec is everything that differs between providers; the flow in
// exchange.go, oidc.go and revoke.go is shared. Adding a provider (a generic
// "oidc" driven by its issuer, say) is adding one spec to specs.
type spec struct {
	name        string
	displayName string
	defaults    Endpoints // the real provider's URLs

	scopes         []string // default scopes; nil sends no scope parameter
	noScopes       bool     // the provider takes no scope parameter at all (Naver)
	pkce           bool     // send a PKCE S256 challenge and verifier
	oidc           bool     // always OpenID Connect
	optionalOIDC   bool     // OpenID Connect when Options.OIDC is set
	discovery      bool     // Endpoints.Issuer alone means OIDC discovery
	secretOptional bool     // Options.ClientSecret may be empty
	trustEmail     bool     // Options.TrustEmail is meaningful
	loginHint      bool     // pass AuthRequest.LoginHint as login_hint

	authParams [][2]string // extra authorization parameters
	// prompt maps AuthRequest.Prompt to an authorization parameter; an
	// empty key drops it.
	prompt func(string) (key, value string)
	// stateInExchange sends state with the code exchange (Naver wants it).
	stateInExchange bool
	// rejected reports whether a token-endpoint error means the code or
	// refresh token was refused (as opposed to the provider failing). e.Code
	// is the OAuth "error" field, e.Detail a provider-specific code (KOE…).
	rejected func(e tokenErr) bool
	// tokenErrorCode extracts a provider-specific code (Kakao's KOE…) from
	// a token-endpoint error body; nil: none.
	tokenErrorCode func(body []byte) string
	// apiError describes an error body of the userinfo endpoint; nil or ""
	// means the status code alone.
	apiError func(body []byte) string

	// profile maps the userinfo JSON to an Identity (Provider not set).
	profile func(body []byte) (Identity, error)
	// claims maps verified id_token claims to an Identity (OIDC only).
	claims func(payload []byte) (Identity, error)
	// needUserinfo reports whether the id_token identity must be completed
	// from the userinfo endpoint (OIDC only).
	needUserinfo func(Identity) bool

	// revoke ends the grant or the token; nil means nothing to call.
	revoke func(ctx context.Context, p *Provider, res *resolved, t Tokens) error

	// generic: the kind is driven by its issuer's discovery document
	// (oidckind.go): Endpoints.Issuer is required, PKCE and client
	// authentication follow what it advertises, Options.Claims applies.
	generic bool
	// numericSubject: subjects are decimal user ids (CheckSubject).
	numericSubject bool

	// goth: the kind is one of goth's providers (goth.go); the flow above
	// is then goth's, except state and PKCE.
	goth *gothSpec
	// tolerateErr is a goth FetchUser error that still leaves a usable
	// User (goth.go).
	tolerateErr error

	// auth is how the client authenticates at the token and revocation
	// endpoints, or which it prefers of what an issuer advertises:
	// authPost (zero) or authBasic.
	auth string
}

func (s *spec) clientAuth() string {
	if s.auth == "" {
		return authPost
	}
	return s.auth
}

// specs is every kind by name: the hand-written ones and goth's catalogue.
var specs = func() map[string]*spec {
	m := gothKinds()
	for _, s := range []*spec{&google, &naver, &kakao, &oidcKind} {
		m[s.name] = s
	}
	return m
}()

// tokenErr is what a token-endpoint error says, for spec.rejected.
type tokenErr struct {
	Code, Detail, Description string
	Refresh                   bool
}

// invalidGrant is the RFC 6749 rule shared by every provider.
func invalidGrant(e tokenErr) bool { return e.Code == "invalid_grant" }

// clean makes provider-supplied text fit for an error string: printable,
// short, and with any secret the caller passes replaced.
func clean(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	const limit = 120
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}
