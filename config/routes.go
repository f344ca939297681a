package config

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/socialgate/socialgate/providers"
)

func (d *decoder) validateProviders(c *Config) {
	if len(c.Providers) == 0 {
		d.missing("providers", "at least one provider is required ("+strings.Join(providers.BuiltinKinds(), ", ")+")")
	}
	for i := range c.Providers {
		p := &c.Providers[i]
		base := "providers." + p.Name
		if !d.resolveKind(base, p) {
			continue
		}
		if !d.set[base+".client_id"] {
			d.required(base+".client_id", "")
		}
		if p.Kind != "kakao" && !d.set[base+".client_secret"] {
			d.required(base+".client_secret", "set client_secret or client_secret_file")
		}
		for j, s := range p.Scopes {
			if s == "" || strings.ContainsFunc(s, unicode.IsSpace) {
				d.errorf(fmt.Sprintf("%s.scopes[%d]", base, j), "must be one scope, without spaces")
			}
		}
		// Explicit scopes replace the defaults, so a missing "openid" would
		// silently turn off the id_token the login depends on.
		oidc := p.Kind == "google" || (p.Kind == "kakao" && p.OIDC)
		if oidc && len(p.Scopes) > 0 && !slices.Contains(p.Scopes, "openid") {
			d.errorf(base+".scopes", `must include "openid": %s signs in with OpenID Connect`, p.Kind)
		}
		for _, e := range p.Endpoints.fields() {
			path := base + ".endpoints." + e.key
			if !d.set[path] {
				continue
			}
			if _, err := checkHTTPURL(e.val); err != nil {
				d.errorf(path, "%v", err)
				continue
			}
			if e.key == "issuer" || e.key == "jwks_url" {
				switch {
				case p.Kind == "naver":
					d.errorf(path, "naver has no OpenID Connect; only auth_url, token_url, userinfo_url and revoke_url apply")
				case p.Kind == "kakao" && !p.OIDC:
					d.errorf(path, "is only used with %s.oidc: true", base)
				}
			}
		}
		if p.Kind == "naver" && len(p.Scopes) > 0 {
			d.errorf(base+".scopes", "naver takes no scopes (the fields it gives are chosen in Naver's developer console)")
		}
		if p.TrustEmail && p.Kind != "naver" {
			d.errorf(base+".trust_email", "only applies to naver (the other providers say whether an e-mail is verified)")
		}
		if p.AutoLogin && p.Kind != "kakao" {
			d.errorf(base+".auto_login", "only applies to kakao (a silent login inside KakaoTalk's in-app browser)")
		}
		if p.OIDC && p.Kind != "kakao" {
			d.errorf(base+".oidc", "only applies to kakao (google always uses OpenID Connect; naver has none)")
		}
	}
}

// resolveKind sets p.Kind (the id when the id names a kind) and reports
// whether it names a kind; the provider's other rules depend on it.
func (d *decoder) resolveKind(base string, p *Provider) bool {
	kinds := providers.Kinds()
	if d.set[base+".kind"] {
		if providers.IsKind(p.Kind) {
			return true
		}
		msg := fmt.Sprintf("unknown provider kind %q", p.Kind)
		if s := closest(p.Kind, kinds); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		d.errorf(base+".kind", "%s; known kinds: %s", msg, strings.Join(kinds, ", "))
		return false
	}
	if providers.IsKind(p.Name) {
		p.Kind = p.Name
		return true
	}
	msg := fmt.Sprintf("unknown provider %q", p.Name)
	if s := closest(p.Name, kinds); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	d.errorf(base, "%s; known providers: %s (an id of your own needs kind: one of them)", msg, strings.Join(kinds, ", "))
	return false
}

type endpointField struct{ key, val string }

// fields lists the endpoints with their keys, in schema order.
func (ep Endpoints) fields() []endpointField {
	return []endpointField{
		{"auth_url", ep.AuthURL}, {"token_url", ep.TokenURL}, {"userinfo_url", ep.UserinfoURL},
		{"issuer", ep.Issuer}, {"jwks_url", ep.JWKSURL}, {"revoke_url", ep.RevokeURL},
		{"end_session_url", ep.EndSessionURL},
	}
}

func (d *decoder) validateRedirects(r *Redirects) {
	for i, h := range r.AllowedHosts {
		p := fmt.Sprintf("redirects.allowed_hosts[%d]", i)
		norm, err := normalizeHostPort(strings.TrimPrefix(h, "."))
		if h == "" || h == "." {
			d.errorf(p, "must not be empty")
			continue
		}
		if err != nil {
			d.errorf(p, "%v", err)
			continue
		}
		r.AllowedHosts[i] = strings.TrimSuffix(h, strings.TrimPrefix(h, ".")) + norm
	}
}

func (d *decoder) validateUpstreams(c *Config) {
	if len(c.Upstreams) == 0 {
		d.missing("upstreams", "at least one upstream is required")
	}
	configured := make([]string, len(c.Providers))
	kinds := map[string]string{} // id → kind
	for i, p := range c.Providers {
		configured[i] = p.Name
		kinds[p.Name] = p.Kind
	}
	names := map[string]int{}
	routes := map[string]int{}
	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		base := fmt.Sprintf("upstreams[%d]", i)
		if !d.set[base+".name"] {
			d.required(base+".name", "")
		} else if j, dup := names[u.Name]; dup {
			d.errorf(base+".name", "duplicate name %q (also upstreams[%d])", u.Name, j)
		} else {
			names[u.Name] = i
		}
		routeOK := true
		if d.set[base+".host"] {
			h, err := normalizeHostPort(u.Host)
			if err != nil {
				d.errorf(base+".host", "%v", err)
				routeOK = false
			}
			u.Host = h
		}
		orDefault(d, base+".path", &u.Path, "/")
		if err := checkRoutePath(u.Path); err != nil {
			d.errorf(base+".path", "%v", err)
			routeOK = false
		}
		// Without url the upstream only answers forward-auth decisions
		// (/oauth2/auth): the app is reached through nginx, Traefik or
		// Caddy, never through the gateway.
		if d.set[base+".url"] {
			if _, err := checkHTTPURL(u.URL); err != nil {
				d.errorf(base+".url", "%v", err)
			}
		}
		d.choice(base+".auth", &u.Auth, AuthRequired, AuthRequired, AuthPublic)
		d.validateAllow(base+".allow", &u.Allow, configured, kinds)
		if u.Auth == AuthPublic && d.hasAllow(base+".allow") {
			d.errorf(base+".allow", "has no effect on a public upstream (auth: public)")
		}
		d.choice(base+".header_encoding", &u.HeaderEncoding, EncodingPercent,
			EncodingPercent, EncodingRaw, EncodingBase64, EncodingEUCKR)
		if routeOK {
			key := u.Host + " " + u.Path
			if j, dup := routes[key]; dup {
				d.errorf(base, "same host and path as upstreams[%d] (%q)", j, c.Upstreams[j].Name)
			} else {
				routes[key] = i
			}
		}
	}
}

// checkRoutePath checks an upstream's path prefix. It may hold Hangul: it
// is matched against the decoded request path.
func checkRoutePath(p string) error {
	switch {
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf(`must start with "/"`)
	case strings.ContainsAny(p, "?#\\"):
		return fmt.Errorf(`must be a path only, without "?", "#" or "\"`)
	case strings.ContainsFunc(p, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fmt.Errorf("must not contain spaces or control characters")
	}
	return nil
}

func (d *decoder) hasAllow(base string) bool {
	for _, k := range []string{"providers", "emails", "email_domains", "users"} {
		if d.set[base+"."+k] {
			return true
		}
	}
	return false
}

func (d *decoder) validateAllow(base string, a *Allow, configured []string, kinds map[string]string) {
	notConfigured := func(path, name string) {
		d.errorf(path, "%q is not a configured provider (configured: %s)", name, strings.Join(configured, ", "))
	}
	for j, name := range a.Providers {
		if !slices.Contains(configured, name) {
			notConfigured(fmt.Sprintf("%s.providers[%d]", base, j), name)
		}
	}
	for j, e := range a.Emails {
		path := fmt.Sprintf("%s.emails[%d]", base, j)
		at := strings.LastIndexByte(e, '@')
		if at <= 0 || strings.ContainsFunc(e, unicode.IsSpace) {
			d.errorf(path, "must be an e-mail address such as user@example.com")
			continue
		}
		domain, err := normalizeHostname(e[at+1:])
		if err != nil {
			d.errorf(path, "must be an e-mail address such as user@example.com")
			continue
		}
		a.Emails[j] = strings.ToLower(e[:at]) + "@" + domain
	}
	for j, dom := range a.EmailDomains {
		path := fmt.Sprintf("%s.email_domains[%d]", base, j)
		if strings.HasPrefix(dom, "@") {
			d.errorf(path, `write the domain without "@", such as example.com`)
			continue
		}
		norm, err := normalizeHostname(dom)
		if err != nil {
			d.errorf(path, "must be a domain such as example.com")
			continue
		}
		a.EmailDomains[j] = norm
	}
	for j, user := range a.Users {
		path := fmt.Sprintf("%s.users[%d]", base, j)
		provider, subject, ok := strings.Cut(user, ":")
		switch {
		case !ok || provider == "" || subject == "":
			d.errorf(path, `must be "provider:subject", such as "kakao:3456789012"`)
		case !slices.Contains(configured, provider):
			notConfigured(path, provider)
		case kinds[provider] == "kakao" && !isDecimal(subject):
			d.errorf(path, "a kakao subject is the decimal user id, such as \"%s:3456789012\"", provider)
		}
	}
}

func isDecimal(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
}
