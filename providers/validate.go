package providers

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// FieldError is one problem with Options, named by the configuration key
// it comes from ("client_secret", "scopes[1]", "endpoints.issuer"), so that
// config can point at the file's line.
type FieldError struct {
	Field string
	Msg   string
	// Missing: the field is required and empty.
	Missing bool
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// Validate checks o as a configuration file states it and returns every
// problem, for check-config. It is New's check, and stricter in ways
// that a file deserves and a program does not: explicit scopes of an
// OpenID Connect kind must name "openid" (New adds it), and logout is
// refused for kinds that have none (New ignores it).
func Validate(o Options) []FieldError {
	kind, err := kindOf(o.Name, o.Kind)
	if err != nil {
		return []FieldError{{Field: "kind", Msg: err.Error()}}
	}
	if o.Name == "" {
		o.Name = kind
	}
	return check(specs[kind], o, true)
}

// check is the one list of rules. strict adds Validate's two.
func check(s *spec, o Options, strict bool) []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if o.ClientID == "" {
		errs = append(errs, FieldError{Field: "client_id", Msg: "is required", Missing: true})
	}
	if o.ClientSecret == "" && !s.secretOptional {
		errs = append(errs, FieldError{Field: "client_secret", Msg: "is required", Missing: true})
	}
	if err := checkURL(o.RedirectURL); err != nil {
		add("redirect_url", "%v", err)
	}
	for i, sc := range o.Scopes {
		if sc == "" || strings.ContainsFunc(sc, unicode.IsSpace) {
			add(fmt.Sprintf("scopes[%d]", i), "must be one scope, without spaces")
		}
	}
	oidc := s.oidc || (s.optionalOIDC && o.OIDC)
	switch {
	case s.noScopes && len(o.Scopes) > 0:
		add("scopes", "%s takes no scopes (the fields it gives are chosen in %s's developer console)", s.name, s.displayName)
	case strict && oidc && len(o.Scopes) > 0 && !slices.Contains(o.Scopes, "openid"):
		// Explicit scopes replace the defaults: without "openid" there
		// would be no id_token to sign in with.
		add("scopes", `must include "openid": %s signs in with OpenID Connect`, s.name)
	}
	if o.TrustEmail && !s.trustEmail {
		add("trust_email", "only applies to naver (the other providers say whether an e-mail is verified)")
	}
	if o.OIDC && !s.optionalOIDC {
		add("oidc", "only applies to kakao (google always uses OpenID Connect; naver has none)")
	}
	errs = append(errs, checkEndpoints(s, o, strict)...)
	if s.generic && o.Endpoints.Issuer == "" {
		errs = append(errs, FieldError{Field: "issuer", Missing: true,
			Msg: "is required for kind oidc (discovery at {issuer}/.well-known/openid-configuration)"})
	}
	if !s.generic && !o.Claims.isZero() {
		add("claims", "only applies to kind oidc (the other kinds map their own claims)")
	}
	if o.AdminKey != "" && s.name != "kakao" {
		add("admin_key", "only applies to kakao (it verifies Kakao's unlink callback)")
	}
	if o.AutoLogin && s.name != "kakao" {
		add("auto_login", "only applies to kakao (a silent login inside KakaoTalk's in-app browser)")
	}
	if strict && o.Logout && !s.oidc && !s.optionalOIDC {
		add("logout", "%s has no logout (sign-out ends the gateway's session only)", s.name)
	}
	if o.Timeout < 0 {
		add("timeout", "must not be negative")
	}
	return errs
}

// checkEndpoints: each set URL is absolute http(s), and applies to the
// kind. An issuer or JWKS URL a kind does not use is an error in a file
// (strict) and ignored by New.
func checkEndpoints(s *spec, o Options, strict bool) []FieldError {
	var errs []FieldError
	e := o.Endpoints
	fields := []struct{ name, v string }{
		{"auth_url", e.AuthURL}, {"token_url", e.TokenURL}, {"userinfo_url", e.UserinfoURL},
		{"issuer", e.Issuer}, {"jwks_url", e.JWKSURL}, {"revoke_url", e.RevokeURL},
		{"end_session_url", e.EndSessionURL},
	}
	for _, f := range fields {
		if f.v == "" {
			continue
		}
		field := "endpoints." + f.name
		fail := func(format string, args ...any) {
			errs = append(errs, FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
		}
		oidcOnly := f.name == "issuer" || f.name == "jwks_url"
		switch {
		case checkURL(f.v) != nil:
			fail("must be an absolute http:// or https:// URL")
		case s.goth != nil && !(s.goth.custom && (f.name == "auth_url" || f.name == "token_url" || f.name == "userinfo_url")):
			if s.goth.custom {
				fail("%s takes only auth_url, token_url and userinfo_url", s.name)
			} else {
				fail("goth's %s provider takes no custom URLs", s.name)
			}
		case !strict && oidcOnly:
		case oidcOnly && !s.oidc && !s.optionalOIDC:
			fail("%s has no OpenID Connect; only auth_url, token_url, userinfo_url and revoke_url apply", s.name)
		case oidcOnly && s.optionalOIDC && !o.OIDC:
			fail("is only used with providers.%s.oidc: true", o.Name)
		}
	}
	// Without discovery, an issuer other than the kind's own must come with
	// every endpoint a token is sent to: the kind's real URLs would send
	// another issuer's tokens to the real provider.
	if !s.discovery && o.OIDC && e.Issuer != "" && e.Issuer != s.defaults.Issuer {
		for _, f := range fields[:5] {
			if f.v == "" && f.name != "issuer" {
				errs = append(errs, FieldError{Field: "endpoints." + f.name, Missing: true,
					Msg: fmt.Sprintf("is required with an issuer other than %s's (%s has no discovery here)", s.displayName, s.name)})
			}
		}
	}
	return errs
}
