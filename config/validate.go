package config

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// minSecretLen is the shortest cookie secret accepted: 256 bits.
const minSecretLen = 32

// validate applies defaults and checks every rule that decoding alone
// cannot: required keys, ranges, formats and how keys relate.
func (d *decoder) validate(c *Config) {
	d.validating = true
	pub := d.validateServer(&c.Server)
	d.validateCookie(&c.Cookie, pub)
	d.validateSession(&c.Session)
	d.validateProviders(c)
	d.validateRedirects(&c.Redirects)
	d.validateUpstreams(c)
	d.validateBearer(c)
	d.validateAccounts(c)
	d.validateUI(&c.UI)
	d.validateLogin(&c.Login)
	switch lvl := d.logLevel; lvl {
	case "", "info":
		c.Log.Level = slog.LevelInfo
	case "debug":
		c.Log.Level = slog.LevelDebug
	case "warn":
		c.Log.Level = slog.LevelWarn
	case "error":
		c.Log.Level = slog.LevelError
	default:
		d.badChoice("log.level", lvl, "debug", "info", "warn", "error")
	}
}

// orDefault sets *dst to def unless path was given a value.
func orDefault[T any](d *decoder, path string, dst *T, def T) {
	if !d.set[path] {
		*dst = def
	}
}

// choice checks an enumerated value, applying its default.
func (d *decoder) choice(path string, dst *string, def string, allowed ...string) {
	if !d.set[path] {
		*dst = def
		return
	}
	if !slices.Contains(allowed, *dst) {
		d.badChoice(path, *dst, allowed...)
	}
}

func (d *decoder) badChoice(path, got string, allowed ...string) {
	msg := fmt.Sprintf("must be one of %s; got %q", strings.Join(allowed, ", "), got)
	if s := closest(got, allowed); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	d.errorf(path, "%s", msg)
}

// atLeast reports a set duration shorter than lowest.
func (d *decoder) atLeast(path string, v, lowest time.Duration) {
	if !d.set[path] || v >= lowest {
		return
	}
	if lowest == 0 {
		d.errorf(path, "must not be negative")
	} else {
		d.errorf(path, "must be positive")
	}
}

// required reports a missing key.
func (d *decoder) required(path, what string) {
	if what != "" {
		what = " (" + what + ")"
	}
	d.missing(path, "is required"+what)
}

// missing reports that path lacks something, unless a problem was already
// reported at or under path (an unset ${VAR}, a list that is not a list):
// one problem per key is enough.
func (d *decoder) missing(path, msg string) {
	for _, p := range d.problems {
		// path+"_file" too: a secret_file that cannot be read already
		// explains why the secret is missing.
		if p.Path == path || p.Path == path+"_file" ||
			strings.HasPrefix(p.Path, path+".") || strings.HasPrefix(p.Path, path+"[") {
			return
		}
	}
	d.errorf(path, "%s", msg)
}

// validateServer returns the parsed public URL, nil when it is invalid.
func (d *decoder) validateServer(s *Server) *url.URL {
	orDefault(d, "server.listen", &s.Listen, ":4180")
	if _, port, err := net.SplitHostPort(s.Listen); err != nil || !validListenPort(port) {
		d.errorf("server.listen", `must be host:port, such as ":4180" or "127.0.0.1:4180"`)
	}
	var pub *url.URL
	if !d.set["server.public_url"] {
		d.required("server.public_url", `the URL browsers use to reach the gateway, such as "https://gate.example.com"`)
	} else if u, err := normalizePublicURL(s.PublicURL); err != nil {
		d.errorf("server.public_url", "%v", err)
	} else {
		pub, s.PublicURL = u, u.String()
	}
	for i, raw := range d.trustedProxies {
		p := fmt.Sprintf("server.trusted_proxies[%d]", i)
		if pfx, err := netip.ParsePrefix(raw); err == nil {
			s.TrustedProxies = append(s.TrustedProxies, pfx.Masked())
		} else if ip, err := netip.ParseAddr(raw); err == nil && ip.Zone() == "" {
			s.TrustedProxies = append(s.TrustedProxies, netip.PrefixFrom(ip, ip.BitLen()))
		} else {
			d.errorf(p, "must be an IP address or a CIDR such as 10.0.0.0/8")
		}
	}
	orDefault(d, "server.read_header_timeout", &s.ReadHeaderTimeout, 10*time.Second)
	orDefault(d, "server.read_timeout", &s.ReadTimeout, 30*time.Second)
	orDefault(d, "server.write_timeout", &s.WriteTimeout, 60*time.Second)
	orDefault(d, "server.idle_timeout", &s.IdleTimeout, 120*time.Second)
	orDefault(d, "server.max_header_bytes", &s.MaxHeaderBytes, 64<<10)
	orDefault(d, "server.shutdown_timeout", &s.ShutdownTimeout, 15*time.Second)
	orDefault(d, "server.provider_timeout", &s.ProviderTimeout, 10*time.Second)
	d.atLeast("server.provider_timeout", s.ProviderTimeout, time.Millisecond)
	// Without a header timeout a slow client holds a connection forever.
	d.atLeast("server.read_header_timeout", s.ReadHeaderTimeout, time.Nanosecond)
	d.atLeast("server.read_timeout", s.ReadTimeout, 0)
	d.atLeast("server.write_timeout", s.WriteTimeout, 0)
	d.atLeast("server.idle_timeout", s.IdleTimeout, 0)
	d.atLeast("server.shutdown_timeout", s.ShutdownTimeout, 0)
	if s.MaxHeaderBytes < 1 {
		d.errorf("server.max_header_bytes", "must be positive")
	}
	for i, h := range s.StripHeaders {
		if !validStripHeader(h) {
			d.errorf(fmt.Sprintf("server.strip_headers[%d]", i), `must be a header name such as "X-Corp-User", or a prefix ending in "*" such as "X-Corp-*"`)
		}
	}
	if d.set["server.metrics_listen"] {
		if _, port, err := net.SplitHostPort(s.MetricsListen); err != nil || !validListenPort(port) {
			d.errorf("server.metrics_listen", `must be host:port, such as "127.0.0.1:9090"`)
		} else if s.MetricsListen == s.Listen {
			d.errorf("server.metrics_listen", "must differ from server.listen")
		}
	}
	return pub
}

func validListenPort(port string) bool {
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

func (d *decoder) validateCookie(c *Cookie, pub *url.URL) {
	orDefault(d, "cookie.name", &c.Name, "_socialgate")
	lower := strings.ToLower(c.Name)
	switch {
	case !validCookieName(c.Name):
		d.errorf("cookie.name", "must be a cookie name: letters, digits and !#$%%&'*+-.^_`|~")
	case strings.HasPrefix(lower, "__host-") || strings.HasPrefix(lower, "__secure-"):
		d.errorf("cookie.name", "must not start with __Host- or __Secure-: the gateway adds the prefix itself when it applies")
	}
	if !d.set["cookie.secret"] {
		d.required("cookie.secret", "at least 32 random bytes; set secret or secret_file")
	} else if len(c.Secret) < minSecretLen {
		d.errorf("cookie.secret", "must be at least %d bytes (try: openssl rand -base64 32)", minSecretLen)
	}
	for i, s := range c.PreviousSecrets {
		if len(s) < minSecretLen {
			d.errorf(fmt.Sprintf("cookie.previous_secrets[%d]", i), "must be at least %d bytes", minSecretLen)
		}
	}
	if d.set["cookie.domain"] {
		name := strings.TrimPrefix(c.Domain, ".")
		host, err := normalizeHostname(name)
		switch {
		case strings.ContainsAny(name, ":/"):
			d.errorf("cookie.domain", `must be a domain such as ".example.com", without scheme, port or path`)
		case err != nil:
			d.errorf("cookie.domain", "%v", err)
		default:
			c.Domain = strings.TrimSuffix(c.Domain, name) + host // keeps a leading "."
			if pub != nil && !domainCovers(host, pub.Hostname()) {
				d.errorf("cookie.domain", "does not cover the public_url host %q, so browsers would refuse the cookie", pub.Hostname())
			}
		}
	}
	orDefault(d, "cookie.secure", &c.Secure, pub == nil || pub.Scheme == "https")
	switch d.sameSite {
	case "", "lax":
		c.SameSite = http.SameSiteLaxMode
	case "strict":
		c.SameSite = http.SameSiteStrictMode
	case "none":
		c.SameSite = http.SameSiteNoneMode
		if !c.Secure {
			d.errorf("cookie.same_site", "none requires a secure cookie: browsers drop SameSite=None cookies without Secure")
		}
	default:
		d.badChoice("cookie.same_site", d.sameSite, "lax", "strict", "none")
	}
}

// previousSecrets settles previous_secrets and previous_secrets_file (one
// secret per line).
func (d *decoder) previousSecrets(c *Cookie) {
	const file = "cookie.previous_secrets_file"
	if !d.set[file] {
		return
	}
	if d.set["cookie.previous_secrets"] {
		d.errorf(file, "set either previous_secrets or previous_secrets_file, not both")
		return
	}
	for i, line := range strings.Split(d.files[file], "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if len(line) < minSecretLen {
			d.errorf(file, "the secret on line %d of the file must be at least %d bytes", i+1, minSecretLen)
			continue
		}
		c.PreviousSecrets = append(c.PreviousSecrets, line)
	}
}

// validCookieName reports whether name is an RFC 6265 cookie-name token.
func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r) {
			return false
		}
	}
	return true
}

// domainCovers reports whether a cookie for domain is sent to host.
func domainCovers(domain, host string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}

func (d *decoder) validateSession(s *Session) {
	d.choice("session.store", &s.Store, StoreMemory, StoreMemory, StoreRedis)
	orDefault(d, "session.lifetime", &s.Lifetime, 168*time.Hour)
	d.atLeast("session.lifetime", s.Lifetime, time.Nanosecond)
	orDefault(d, "session.idle_timeout", &s.IdleTimeout, min(24*time.Hour, s.Lifetime))
	d.atLeast("session.idle_timeout", s.IdleTimeout, time.Nanosecond)
	if s.IdleTimeout > s.Lifetime && s.Lifetime > 0 {
		d.errorf("session.idle_timeout", "must not be longer than session.lifetime (%v)", s.Lifetime)
	}
	orDefault(d, "session.touch_interval", &s.TouchInterval, min(time.Minute, s.IdleTimeout/2))
	d.atLeast("session.touch_interval", s.TouchInterval, 0)
	if d.set["session.touch_interval"] && s.TouchInterval >= s.IdleTimeout && s.IdleTimeout > 0 {
		d.errorf("session.touch_interval", "must be shorter than session.idle_timeout (%v), or busy sessions expire", s.IdleTimeout)
	}
	if s.Store == StoreRedis {
		// Safe by design: sign-out and revocation reach every replica's
		// cache within 1 s over pub/sub, and a replica whose subscription
		// is down stops answering from its cache.
		orDefault(d, "session.cache_ttl", &s.CacheTTL, 5*time.Second)
	}
	d.atLeast("session.cache_ttl", s.CacheTTL, 0)
	orDefault(d, "session.refresh_before", &s.RefreshBefore, time.Minute)
	d.atLeast("session.refresh_before", s.RefreshBefore, time.Second)
	orDefault(d, "session.pending_logins_max_bytes", &s.PendingLoginsMaxBytes, 64<<20)
	orDefault(d, "session.pending_logins_max_bytes_per_client", &s.PendingLoginsMaxBytesPerClient, s.PendingLoginsMaxBytes/16)
	// A budget below these would refuse logins a real browser makes: one
	// login may take up to ~3 KiB (a 2 KiB deep link) and counts at least
	// 8 KiB against its client.
	if s.PendingLoginsMaxBytes < 64<<10 {
		d.errorf("session.pending_logins_max_bytes", "must be at least 65536 (64 KiB)")
	} else if s.PendingLoginsMaxBytesPerClient < 8<<10 || s.PendingLoginsMaxBytesPerClient > s.PendingLoginsMaxBytes {
		d.errorf("session.pending_logins_max_bytes_per_client", "must be between 8192 (8 KiB) and session.pending_logins_max_bytes (%d)", s.PendingLoginsMaxBytes)
	}
	d.validateRedis(&s.Redis, s.Store == StoreRedis)
}

func (d *decoder) validateRedis(r *Redis, used bool) {
	const base = "session.redis"
	if used {
		orDefault(d, base+".addrs", &r.Addrs, []string{"127.0.0.1:6379"})
	}
	for i, a := range r.Addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" || checkPort(port) != nil {
			d.errorf(fmt.Sprintf("%s.addrs[%d]", base, i), `must be host:port, such as "127.0.0.1:6379"`)
		}
	}
	if r.MasterName == "" {
		for _, k := range []string{"sentinel_username", "sentinel_password", "sentinel_password_file"} {
			if d.set[base+"."+k] {
				d.errorf(base+"."+k, "is only used with master_name (Redis Sentinel)")
			}
		}
	}
	switch {
	case r.DB < 0:
		d.errorf(base+".db", "must not be negative")
	case r.DB != 0 && len(r.Addrs) > 1 && r.MasterName == "":
		d.errorf(base+".db", "must be 0 with several addrs: Redis Cluster has only database 0")
	}
	orDefault(d, base+".key_prefix", &r.KeyPrefix, "socialgate:")
	if !r.TLS.Enabled {
		if r.TLS.CAFile != "" {
			d.errorf(base+".tls.ca_file", "has no effect unless session.redis.tls.enabled is true")
		}
		if r.TLS.InsecureSkipVerify {
			d.errorf(base+".tls.insecure_skip_verify", "has no effect unless session.redis.tls.enabled is true")
		}
	}
	if d.set[base+".tls.ca_file"] {
		if data, err := d.readFile(r.TLS.CAFile); err != nil {
			d.errorf(base+".tls.ca_file", "%v", err)
		} else if !x509.NewCertPool().AppendCertsFromPEM(data) {
			d.errorf(base+".tls.ca_file", "holds no PEM certificate")
		}
	}
	if r.PoolSize < 0 {
		d.errorf(base+".pool_size", "must not be negative (0 means the go-redis default)")
	}
	orDefault(d, base+".dial_timeout", &r.DialTimeout, 2*time.Second)
	orDefault(d, base+".read_timeout", &r.ReadTimeout, time.Second)
	orDefault(d, base+".write_timeout", &r.WriteTimeout, time.Second)
	d.atLeast(base+".dial_timeout", r.DialTimeout, time.Nanosecond)
	d.atLeast(base+".read_timeout", r.ReadTimeout, time.Nanosecond)
	d.atLeast(base+".write_timeout", r.WriteTimeout, time.Nanosecond)
}

// validStripHeader accepts an RFC 9110 token (the header name), with an
// optional "*" at the end for a family; proxy.New checks the same.
func validStripHeader(h string) bool {
	name := strings.TrimSuffix(h, "*")
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
