package config

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// warnings lists the valid settings that are risky in production. It runs
// on a Config that passed validation.
func (d *decoder) warnings(c *Config) []Problem {
	var ws []Problem
	warn := func(path, format string, args ...any) {
		ws = append(ws, Problem{File: d.name, Line: d.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if pub, err := url.Parse(c.Server.PublicURL); err == nil {
		if pub.Scheme == "http" && !isLoopback(pub.Hostname()) {
			warn("server.public_url", "plain http on a non-loopback host: cookies and sign-ins travel unencrypted")
		}
		if pub.Scheme == "https" && !c.Cookie.Secure {
			warn("cookie.secure", "false with an https public_url: browsers may send the session cookie over plain http")
		}
	}
	if c.Cookie.SameSite == http.SameSiteStrictMode {
		warn("cookie.same_site", "strict: the page a login returns to is reached through the provider's cross-site redirect, so browsers send it without the session cookie and the user meets the sign-in page again; use lax")
	}
	for i, p := range c.Server.TrustedProxies {
		if p.Bits() == 0 {
			warn(fmt.Sprintf("server.trusted_proxies[%d]", i),
				"trusts X-Forwarded-* headers from every address: any client can claim any IP or scheme")
		}
	}
	if w, pt := c.Server.WriteTimeout, c.Server.ProviderTimeout; w > 0 && w < pt {
		// The callback answers only after the provider does: cut first, the
		// browser sees a dropped connection instead of the 502 page.
		warn("server.write_timeout", "%v is shorter than server.provider_timeout (%v): a slow provider's sign-in ends in a dropped connection instead of an error page", w, pt)
	}
	if c.Session.Store == StoreMemory {
		warn("session.store", "memory keeps sessions in this process only: they end on restart and are not shared between replicas")
		for k := range d.set {
			if strings.HasPrefix(k, "session.redis.") {
				warn("session.redis", "is ignored: session.store is memory")
				break
			}
		}
	}
	if c.Session.Redis.TLS.InsecureSkipVerify {
		warn("session.redis.tls.insecure_skip_verify", "true: the Redis server's certificate is not checked")
	}
	for _, p := range c.Providers {
		base := "providers." + p.Name
		for _, e := range p.Endpoints.fields() {
			if u, err := url.Parse(e.val); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
				warn(base+".endpoints."+e.key, "plain http on a non-loopback host: codes and tokens travel unencrypted")
			}
		}
	}
	for i, u := range c.Upstreams {
		if !u.PassAccessToken {
			continue
		}
		if t, err := url.Parse(u.URL); err == nil && t.Scheme == "http" && !isLoopback(t.Hostname()) {
			warn(fmt.Sprintf("upstreams[%d].pass_access_token", i),
				"sends the provider's access token over plain http to a non-loopback host")
		}
	}
	return ws
}
