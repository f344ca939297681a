package config

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/goccy/go-yaml/ast"
)

// Bearer makes an upstream accept JWT access tokens from machine clients
// (the OAuth client-credentials grant) in "Authorization: Bearer …".
type Bearer struct {
	// Issuers whose tokens are accepted. Empty: bearer tokens are refused
	// on this upstream.
	Issuers []BearerIssuer
}

// BearerIssuer is one authorization server an upstream trusts.
type BearerIssuer struct {
	// Issuer is the tokens' iss, exactly (an http(s) URL). Required.
	Issuer string
	// Audiences: a token's aud must name one of them. At least one.
	Audiences []string
	// JWKSURL is where the issuer's keys are. Default "": from the
	// issuer's metadata ({issuer}/.well-known/openid-configuration, else
	// RFC 8414's oauth-authorization-server).
	JWKSURL string
}

// bearer decodes upstreams[i].bearer.
func (d *decoder) bearer(b *Bearer) func(ast.Node, string) {
	return func(n ast.Node, path string) {
		d.mapping(n, path, fields{
			"issuers": func(v ast.Node, p string) {
				d.list(v, p, func(v ast.Node, p string) {
					var is BearerIssuer
					d.mapping(v, p, fields{
						"issuer":    d.str(&is.Issuer),
						"audiences": d.strList(&is.Audiences),
						"jwks_url":  d.str(&is.JWKSURL),
					})
					b.Issuers = append(b.Issuers, is)
				})
			},
		})
	}
}

// validateBearer checks every upstream's bearer section and the allow
// rules that only bearer tokens meet. One issuer has one JWKS for the
// whole gateway, so two upstreams may not give it different jwks_url.
func (d *decoder) validateBearer(c *Config) {
	jwks := map[string]string{} // issuer → jwks_url, across upstreams
	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		base := fmt.Sprintf("upstreams[%d]", i)
		seen := map[string]bool{}
		for j, is := range u.Bearer.Issuers {
			p := fmt.Sprintf("%s.bearer.issuers[%d]", base, j)
			if !d.set[p+".issuer"] {
				d.required(p+".issuer", `the tokens' iss, such as "https://sso.example.com"`)
			} else if _, err := checkHTTPURL(is.Issuer); err != nil {
				d.errorf(p+".issuer", "%v", err)
			} else if seen[is.Issuer] {
				d.errorf(p+".issuer", "%q is listed twice on this upstream", is.Issuer)
			}
			seen[is.Issuer] = true
			if len(is.Audiences) == 0 {
				d.required(p+".audiences", "at least one audience the tokens' aud must name")
			}
			for k, a := range is.Audiences {
				if a == "" {
					d.errorf(fmt.Sprintf("%s.audiences[%d]", p, k), "must not be empty")
				}
			}
			if is.JWKSURL != "" {
				if _, err := checkHTTPURL(is.JWKSURL); err != nil {
					d.errorf(p+".jwks_url", "%v", err)
				}
			}
			if prev, ok := jwks[is.Issuer]; ok && prev != is.JWKSURL {
				d.errorf(p+".jwks_url", "another upstream gives issuer %q the jwks_url %q; one issuer has one set of keys", is.Issuer, prev)
			}
			jwks[is.Issuer] = is.JWKSURL
		}
		if u.Auth == AuthPublic && len(u.Bearer.Issuers) > 0 {
			d.errorf(base+".bearer", "has no effect on a public upstream (auth: public)")
		}
		for _, k := range []string{"scopes", "clients"} {
			if d.set[base+".allow."+k] && len(u.Bearer.Issuers) == 0 {
				d.errorf(base+".allow."+k, "only applies to bearer tokens; set bearer.issuers on this upstream")
			}
		}
		for j, s := range u.Allow.Scopes {
			if s == "" || strings.ContainsFunc(s, unicode.IsSpace) {
				d.errorf(fmt.Sprintf("%s.allow.scopes[%d]", base, j), "must be one scope, without spaces")
			}
		}
		for j, s := range u.Allow.Clients {
			if s == "" {
				d.errorf(fmt.Sprintf("%s.allow.clients[%d]", base, j), "must not be empty")
			}
		}
	}
}
