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
		d.validateProvider(base, p)
	}
}

// secretHints say how to set a missing required key.
var secretHints = map[string]string{
	"client_secret": "set client_secret or client_secret_file",
	"issuer":        "",
}

// validateProvider asks providers, the one place that knows what each
// kind needs and allows, and points each problem at its key's line. URL
// syntax is config's own check (one URL parser for the whole file), so a
// URL that fails it is not passed on.
func (d *decoder) validateProvider(base string, p *Provider) {
	ep := p.Endpoints
	for _, f := range []*string{&ep.AuthURL, &ep.TokenURL, &ep.UserinfoURL, &ep.Issuer, &ep.JWKSURL, &ep.RevokeURL, &ep.EndSessionURL} {
		if *f == "" {
			continue
		}
		if _, err := checkHTTPURL(*f); err != nil {
			*f = ""
		}
	}
	for _, e := range p.Endpoints.fields() {
		path := base + ".endpoints." + e.key
		if d.set[path] {
			if _, err := checkHTTPURL(e.val); err != nil {
				if d.set[base+".issuer"] && e.key == "issuer" {
					path = base + ".issuer"
				}
				d.errorf(path, "%v", err)
			}
		}
	}
	cl := p.Claims
	o := providers.Options{
		Name: p.Name, Kind: p.Kind, ClientID: p.ClientID, ClientSecret: p.ClientSecret, Scopes: p.Scopes,
		// The real callback needs server.public_url, checked elsewhere.
		RedirectURL: "https://gateway.invalid/oauth2/callback/" + p.Name,
		Endpoints: providers.Endpoints{AuthURL: ep.AuthURL, TokenURL: ep.TokenURL, UserinfoURL: ep.UserinfoURL,
			Issuer: ep.Issuer, JWKSURL: ep.JWKSURL, RevokeURL: ep.RevokeURL, EndSessionURL: ep.EndSessionURL},
		TrustEmail: p.TrustEmail, OIDC: p.OIDC, Logout: p.Logout, AdminKey: p.AdminKey, AutoLogin: p.AutoLogin,
		Claims: providers.Claims{Subject: cl.Subject, Email: cl.Email, EmailVerified: cl.EmailVerified, Name: cl.Name, Picture: cl.Picture},
	}
	for _, fe := range providers.Validate(o) {
		path := base + "." + fe.Field
		if fe.Field == "endpoints.issuer" && d.set[base+".issuer"] {
			path = base + ".issuer"
		}
		if fe.Missing && fe.Msg == "is required" {
			d.required(path, secretHints[fe.Field])
			continue
		}
		if fe.Missing {
			d.missing(path, fe.Msg)
			continue
		}
		d.errorf(path, "%s", fe.Msg)
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
	for _, k := range []string{"providers", "emails", "email_domains", "users", "scopes", "clients"} {
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
		// A–Z only, as proxy compares: Unicode folding would turn the
		// Kelvin sign into 'k' here, a rule the proxy then reads as
		// another mailbox's.
		a.Emails[j] = asciiLower(e[:at]) + "@" + domain
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
		if strings.HasPrefix(user, "sg_") {
			// A gateway user ID (accounts.enabled): opaque, 22 base64url characters.
			if len(user) != 25 || strings.ContainsFunc(user[3:], func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
			}) {
				d.errorf(path, `a gateway user ID is "sg_" and 22 characters, as X-Forwarded-User shows it`)
			}
			continue
		}
		provider, subject, ok := strings.Cut(user, ":")
		switch {
		case !ok || provider == "" || subject == "":
			d.errorf(path, `must be "provider:subject", such as "kakao:3456789012"`)
		case !slices.Contains(configured, provider):
			notConfigured(path, provider)
		default:
			if err := providers.CheckSubject(kinds[provider], subject); err != nil {
				d.errorf(path, "%v, such as \"%s:3456789012\"", err, provider)
			}
		}
	}
}

// asciiLower folds A–Z only: e-mail local parts compare that way in proxy
// (policy.go), and strings.ToLower would fold the Kelvin sign U+212A to
// 'k' and U+0130 to 'i'.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}
