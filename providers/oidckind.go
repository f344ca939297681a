package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// oidcKind is any OpenID Connect issuer (Keycloak, Okta, Microsoft Entra,
// Kakao's or Naver's OIDC modes, zitadel…), driven by its discovery
// document: PKCE S256 when the issuer advertises it, client authentication
// as it advertises (client_secret_basic or client_secret_post), claims
// mapped by Options.Claims, userinfo when the id_token lacks e-mail or name,
// and RFC 7009 revocation with client authentication.
var oidcKind = spec{
	name:        "oidc",
	displayName: "OpenID Connect",
	scopes:      []string{"openid", "email", "profile"},
	oidc:        true,
	discovery:   true,
	generic:     true,
	loginHint:   true,
	prompt:      passPrompt,
	rejected:    invalidGrant,
	needUserinfo: func(id Identity) bool {
		return id.Email == "" || id.Name == ""
	},
	revoke: revokeRFC7009,
	auth:   authBasic,
}

// Claims names the claims an Identity is read from (generic OpenID Connect
// only); a zero field means the standard claim.
type Claims struct {
	Subject       string // default "sub"
	Email         string // default "email"
	EmailVerified string // default "email_verified"; a boolean or "true"/"false"
	Name          string // default "name"
	Picture       string // default "picture"
}

func (c Claims) withDefaults() Claims {
	for _, f := range []struct {
		dst *string
		def string
	}{
		{&c.Subject, "sub"}, {&c.Email, "email"}, {&c.EmailVerified, "email_verified"},
		{&c.Name, "name"}, {&c.Picture, "picture"},
	} {
		if *f.dst == "" {
			*f.dst = f.def
		}
	}
	return c
}

// isZero reports whether no claim name was set.
func (c Claims) isZero() bool { return c == Claims{} }

// mapClaims reads an Identity from a JSON object of claims (a verified
// id_token's payload or a userinfo answer) and returns the standard "sub"
// too, which ties the two together. The subject may be a string or a JSON
// number (kept digit for digit); a missing subject is an error only for
// the id_token, so it is left to the caller.
func (c Claims) mapClaims(body []byte) (Identity, string, error) {
	var m map[string]json.RawMessage // values stay raw: numbers are never floats
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return Identity{}, "", errors.New("claims are not a JSON object")
	}
	str := func(name string) (string, error) {
		raw, ok := m[name]
		if !ok || bytes.Equal(raw, []byte("null")) {
			return "", nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return s, nil
		}
		var n json.Number
		if err := json.Unmarshal(raw, &n); err == nil {
			return n.String(), nil
		}
		return "", fmt.Errorf("claim %q is not a string", name)
	}
	var id Identity
	var sub string
	var err error
	for _, f := range []struct {
		dst  *string
		name string
	}{
		{&sub, "sub"}, {&id.Subject, c.Subject}, {&id.Email, c.Email}, {&id.Name, c.Name}, {&id.Picture, c.Picture},
	} {
		if *f.dst, err = str(f.name); err != nil {
			return Identity{}, "", err
		}
	}
	if raw, ok := m[c.EmailVerified]; ok {
		var v looseBool
		if err := json.Unmarshal(raw, &v); err != nil {
			return Identity{}, "", err
		}
		id.EmailVerified = bool(v)
	}
	return id, sub, nil
}

// Client authentication methods at the token and revocation endpoints.
const (
	authBasic = "client_secret_basic"
	authPost  = "client_secret_post"
)

// pickAuth chooses how to authenticate the client from what the issuer
// advertises, preferring prefer; none advertised means the OpenID Connect
// default, client_secret_basic. "" means the issuer takes neither.
func pickAuth(advertised []string, prefer string) string {
	if len(advertised) == 0 {
		return authBasic
	}
	other := authBasic
	if prefer == authBasic {
		other = authPost
	}
	for _, m := range []string{prefer, other} {
		if slices.Contains(advertised, m) {
			return m
		}
	}
	return ""
}

func authStyle(method string) oauth2.AuthStyle {
	if method == authBasic {
		return oauth2.AuthStyleInHeader
	}
	return oauth2.AuthStyleInParams
}

// revokeRFC7009 revokes the refresh token (which ends the grant at most
// issuers) or else the access token, authenticating the client as the
// issuer advertises: RFC 7009 §2.1 requires it of confidential clients.
func revokeRFC7009(ctx context.Context, p *Provider, res *resolved, t Tokens) error {
	tok, hint := t.RefreshToken, "refresh_token"
	if tok == "" {
		tok, hint = t.AccessToken, "access_token"
	}
	form := url.Values{"token": {tok}, "token_type_hint": {hint}}
	if res.revokeAuth != authBasic {
		form.Set("client_id", p.opts.ClientID)
		if p.opts.ClientSecret != "" {
			form.Set("client_secret", p.opts.ClientSecret)
		}
	}
	req, err := http.NewRequest(http.MethodPost, res.ep.RevokeURL, strings.NewReader(form.Encode()))
	if err != nil {
		return p.fail("revoke", ErrProvider, err)
	}
	if res.revokeAuth == authBasic {
		// RFC 6749 §2.3.1: each part form-encoded before Basic.
		req.SetBasicAuth(url.QueryEscape(p.opts.ClientID), url.QueryEscape(p.opts.ClientSecret))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, respBody, err := p.do(ctx, req)
	if err != nil {
		return p.fail("revoke", ErrProvider, err)
	}
	switch code := oauthErrorCode(respBody); {
	case status == http.StatusOK:
		return nil
	case status == http.StatusBadRequest && code == "invalid_token":
		return nil // already revoked or expired: the goal is met
	case code != "":
		return p.errorf("revoke", ErrProvider, "status %d: %s", status, clean(code))
	default:
		return p.errorf("revoke", ErrProvider, "status %d", status)
	}
}
