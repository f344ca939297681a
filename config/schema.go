package config

import (
	"fmt"

	"github.com/goccy/go-yaml/ast"

	"github.com/socialgate/socialgate/providers"
)

// root decodes the whole file into c. The keys of every section are listed
// in this file and nowhere else: this is the schema. It reports false when
// the file is not a mapping at all, which leaves nothing to validate.
func (d *decoder) root(n ast.Node, c *Config) bool {
	if r := d.resolve(n); !isNull(r) {
		if _, ok := r.(ast.MapNode); !ok {
			d.add("", lineOf(r), "the file must be a mapping of sections (server, cookie, session, providers, redirects, upstreams, log), not "+kind(r))
			return false
		}
	}
	d.mapping(n, "", fields{
		"server":    func(v ast.Node, p string) { d.server(v, p, &c.Server) },
		"cookie":    func(v ast.Node, p string) { d.cookie(v, p, &c.Cookie) },
		"session":   func(v ast.Node, p string) { d.session(v, p, &c.Session) },
		"providers": func(v ast.Node, p string) { d.providers(v, p, c) },
		"redirects": func(v ast.Node, p string) {
			d.mapping(v, p, fields{"allowed_hosts": d.strList(&c.Redirects.AllowedHosts)})
		},
		"upstreams": func(v ast.Node, p string) { d.upstreams(v, p, c) },
		"log":       func(v ast.Node, p string) { d.mapping(v, p, fields{"level": d.str(&d.logLevel)}) },
		"accounts":  func(v ast.Node, p string) { d.accounts(v, p, &c.Accounts) },
		"ui":        func(v ast.Node, p string) { d.ui(v, p, &c.UI) },
		"login":     func(v ast.Node, p string) { d.login(v, p, &c.Login) },
	})
	d.secret("cookie.secret", &c.Cookie.Secret, "cookie.secret_file")
	d.secret("session.redis.password", &c.Session.Redis.Password, "session.redis.password_file")
	d.secret("session.redis.sentinel_password", &c.Session.Redis.SentinelPassword,
		"session.redis.sentinel_password_file")
	for i := range c.Providers {
		base := "providers." + c.Providers[i].Name
		d.secret(base+".client_secret", &c.Providers[i].ClientSecret, base+".client_secret_file")
		d.secret(base+".admin_key", &c.Providers[i].AdminKey, base+".admin_key_file")
	}
	d.previousSecrets(&c.Cookie)
	return true
}

func (d *decoder) server(n ast.Node, path string, s *Server) {
	d.mapping(n, path, fields{
		"listen":              d.str(&s.Listen),
		"public_url":          d.str(&s.PublicURL),
		"trusted_proxies":     d.strList(&d.trustedProxies),
		"read_header_timeout": d.duration(&s.ReadHeaderTimeout),
		"read_timeout":        d.duration(&s.ReadTimeout),
		"write_timeout":       d.duration(&s.WriteTimeout),
		"idle_timeout":        d.duration(&s.IdleTimeout),
		"max_header_bytes":    d.integer(&s.MaxHeaderBytes),
		"shutdown_timeout":    d.duration(&s.ShutdownTimeout),
		"provider_timeout":    d.duration(&s.ProviderTimeout),
		"strip_headers":       d.strList(&s.StripHeaders),
		"metrics_listen":      d.str(&s.MetricsListen),
	})
}

func (d *decoder) cookie(n ast.Node, path string, c *Cookie) {
	d.mapping(n, path, fields{
		"name":                  d.str(&c.Name),
		"secret":                d.str(&c.Secret),
		"secret_file":           d.file,
		"previous_secrets":      d.strList(&c.PreviousSecrets),
		"previous_secrets_file": d.file,
		"domain":                d.str(&c.Domain),
		"secure":                d.boolean(&c.Secure),
		"same_site":             d.str(&d.sameSite),
	})
}

func (d *decoder) session(n ast.Node, path string, s *Session) {
	r := &s.Redis
	d.mapping(n, path, fields{
		"store":                               d.str(&s.Store),
		"lifetime":                            d.duration(&s.Lifetime),
		"idle_timeout":                        d.duration(&s.IdleTimeout),
		"touch_interval":                      d.duration(&s.TouchInterval),
		"cache_ttl":                           d.duration(&s.CacheTTL),
		"refresh_before":                      d.duration(&s.RefreshBefore),
		"revoke_provider_tokens":              d.boolean(&s.RevokeProviderTokens),
		"pending_logins_max_bytes":            d.integer(&s.PendingLoginsMaxBytes),
		"pending_logins_max_bytes_per_client": d.integer(&s.PendingLoginsMaxBytesPerClient),
		"redis": func(v ast.Node, p string) {
			d.mapping(v, p, fields{
				"addrs":                  d.strList(&r.Addrs),
				"master_name":            d.str(&r.MasterName),
				"username":               d.str(&r.Username),
				"password":               d.str(&r.Password),
				"password_file":          d.file,
				"sentinel_username":      d.str(&r.SentinelUsername),
				"sentinel_password":      d.str(&r.SentinelPassword),
				"sentinel_password_file": d.file,
				"db":                     d.integer(&r.DB),
				"key_prefix":             d.str(&r.KeyPrefix),
				"tls": func(v ast.Node, p string) {
					d.mapping(v, p, fields{
						"enabled":              d.boolean(&r.TLS.Enabled),
						"ca_file":              d.str(&r.TLS.CAFile),
						"insecure_skip_verify": d.boolean(&r.TLS.InsecureSkipVerify),
					})
				},
				"pool_size":     d.integer(&r.PoolSize),
				"dial_timeout":  d.duration(&r.DialTimeout),
				"read_timeout":  d.duration(&r.ReadTimeout),
				"write_timeout": d.duration(&r.WriteTimeout),
			})
		},
	})
}

// providers decodes the providers mapping, keeping the file's order.
func (d *decoder) providers(n ast.Node, path string, c *Config) {
	for _, e := range d.entries(n, path) {
		p := joinPath(path, e.key)
		if !providers.ValidID(e.key) {
			d.add(p, e.line, fmt.Sprintf("%q is not a provider id: use lower-case letters, digits, '-' and '_', starting with a letter or digit (at most 64)", e.key))
			continue
		}
		d.lines[p] = e.line
		pr := Provider{Name: e.key}
		ep := &pr.Endpoints
		var issuer string
		d.mapping(e.value, p, fields{
			"kind":               d.str(&pr.Kind),
			"display_name":       d.str(&pr.DisplayName),
			"client_id":          d.str(&pr.ClientID),
			"client_secret":      d.str(&pr.ClientSecret),
			"client_secret_file": d.file,
			"scopes":             d.strList(&pr.Scopes),
			"endpoints": func(v ast.Node, p string) {
				d.mapping(v, p, fields{
					"auth_url":     d.str(&ep.AuthURL),
					"token_url":    d.str(&ep.TokenURL),
					"userinfo_url": d.str(&ep.UserinfoURL),
					"issuer":       d.str(&ep.Issuer),
					"jwks_url":     d.str(&ep.JWKSURL),
					"revoke_url":   d.str(&ep.RevokeURL),

					"end_session_url": d.str(&ep.EndSessionURL),
				})
			},
			"trust_email":    d.boolean(&pr.TrustEmail),
			"oidc":           d.boolean(&pr.OIDC),
			"logout":         d.boolean(&pr.Logout),
			"admin_key":      d.str(&pr.AdminKey),
			"admin_key_file": d.file,
			"auto_login":     d.boolean(&pr.AutoLogin),
			// issuer is endpoints.issuer, where a generic OpenID Connect
			// provider's configuration naturally starts.
			"issuer": d.str(&issuer),
			"claims": func(v ast.Node, p string) {
				cl := &pr.Claims
				d.mapping(v, p, fields{
					"subject":        d.str(&cl.Subject),
					"email":          d.str(&cl.Email),
					"email_verified": d.str(&cl.EmailVerified),
					"name":           d.str(&cl.Name),
					"picture":        d.str(&cl.Picture),
				})
			},
		})
		switch {
		case issuer == "":
		case ep.Issuer != "" && ep.Issuer != issuer:
			d.add(p+".issuer", 0, "set issuer or endpoints.issuer, not both")
		default:
			ep.Issuer = issuer
			d.set[p+".endpoints.issuer"] = true
			d.lines[p+".endpoints.issuer"] = d.lines[p+".issuer"]
		}
		c.Providers = append(c.Providers, pr)
	}
}

func (d *decoder) upstreams(n ast.Node, path string, c *Config) {
	d.list(n, path, func(v ast.Node, p string) {
		var u Upstream
		a := &u.Allow
		d.mapping(v, p, fields{
			"name": d.str(&u.Name),
			"host": d.str(&u.Host),
			"path": d.str(&u.Path),
			"url":  d.str(&u.URL),
			"auth": d.str(&u.Auth),
			"allow": func(v ast.Node, p string) {
				d.mapping(v, p, fields{
					"providers":     d.strList(&a.Providers),
					"emails":        d.strList(&a.Emails),
					"email_domains": d.strList(&a.EmailDomains),
					"users":         d.strList(&a.Users),
					"scopes":        d.strList(&a.Scopes),
					"clients":       d.strList(&a.Clients),
				})
			},
			"bearer":            d.bearer(&u.Bearer),
			"header_encoding":   d.str(&u.HeaderEncoding),
			"pass_access_token": d.boolean(&u.PassAccessToken),
			"preserve_host":     d.boolean(&u.PreserveHost),
		})
		c.Upstreams = append(c.Upstreams, u)
	})
}
