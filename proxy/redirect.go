package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/socialgate/socialgate/proxy/hostname"
)

// maxRedirectLen bounds rd; the target is kept in the login state, and no
// real deep link is longer.
const maxRedirectLen = 8 << 10

var errRedirectHost = errors.New("invalid redirect host")

// redirectPolicy decides where a browser may be sent after login or
// sign-out. It is immutable after newRedirectPolicy and safe for concurrent
// use.
//
// Hosts are compared in one canonical form: IDNA (UTS #46 lookup, as
// browsers do) to ASCII, lowercase, one trailing dot removed, IPv6 literals
// bracketed in netip's canonical spelling. Ports are compared as numbers,
// an absent port meaning the scheme's default.
type redirectPolicy struct {
	httpsOnly   bool     // public_url is https: plain-http targets are refused
	gateway     hostPort // public_url's host; port always set
	upstreams   []hostPort
	allowExact  []hostPort
	allowSuffix []hostPort // ".example.com" stored as "example.com"
}

// hostPort is a canonical host and a port; port 0 means "none given".
type hostPort struct {
	host string
	port int
}

// newRedirectPolicy builds the policy. publicURL is server.public_url (its
// scheme must be http or https). upstreamHosts are the routes' host matches
// (empty strings, for routes without one, are skipped; a host without port
// matches the scheme's default port and the gateway's port, since the
// gateway serves it). allowedHosts is redirects.allowed_hosts: "host" or
// "host:port" for one host, ".domain" for the domain and every subdomain.
func newRedirectPolicy(publicURL *url.URL, upstreamHosts []string, allowedHosts []string) (*redirectPolicy, error) {
	if publicURL == nil {
		return nil, errors.New("redirect policy: no public url")
	}
	p := &redirectPolicy{}
	switch strings.ToLower(publicURL.Scheme) {
	case "https":
		p.httpsOnly = true
	case "http":
	default:
		return nil, fmt.Errorf("redirect policy: public url scheme %q: want http or https", publicURL.Scheme)
	}
	gw, err := parseHostEntry(publicURL.Host)
	if err != nil {
		return nil, fmt.Errorf("redirect policy: public url: %w", err)
	}
	if gw.port == 0 {
		gw.port = defaultPort(p.httpsOnly)
	}
	p.gateway = gw
	for _, h := range upstreamHosts {
		if h == "" {
			continue
		}
		hp, err := parseHostEntry(h)
		if err != nil {
			return nil, fmt.Errorf("redirect policy: upstream host: %w", err)
		}
		p.upstreams = append(p.upstreams, hp)
	}
	for _, h := range allowedHosts {
		suffix := strings.HasPrefix(h, ".")
		hp, err := parseHostEntry(strings.TrimPrefix(h, "."))
		if err != nil {
			return nil, fmt.Errorf("redirect policy: allowed host: %w", err)
		}
		if suffix {
			p.allowSuffix = append(p.allowSuffix, hp)
		} else {
			p.allowExact = append(p.allowExact, hp)
		}
	}
	return p, nil
}

// parseHostEntry parses a configured "host" or "host:port".
func parseHostEntry(s string) (hostPort, error) {
	if s == "" || strings.ContainsAny(s, "/\\@?#% ") || hasBadRune(s) {
		return hostPort{}, fmt.Errorf("%w: %q", errRedirectHost, s)
	}
	h, port, ok := splitHostPort(s)
	if !ok {
		return hostPort{}, fmt.Errorf("%w: %q", errRedirectHost, s)
	}
	host, _, ok := canonicalHost(h)
	if !ok {
		return hostPort{}, fmt.Errorf("%w: %q", errRedirectHost, s)
	}
	return hostPort{host: host, port: port}, nil
}

// validate returns the target to redirect to and true, or "", false when rd
// must be refused (the caller then falls back to "/"). A relative rd comes
// back as the same path+query+fragment; an absolute rd comes back as given,
// except that a host not already canonical is replaced by its canonical
// ASCII form, so that no browser can read it differently. Never panics.
//
// The raw string is checked before net/url sees it, because browsers are
// more lenient than net/url: they drop tabs and newlines anywhere, read '\'
// as '/', skip extra slashes after the scheme, and map Unicode in hosts.
// net/url is then asked to agree with what was checked.
func (p *redirectPolicy) validate(rd string) (string, bool) {
	if rd == "" || len(rd) > maxRedirectLen || !utf8.ValidString(rd) {
		return "", false
	}
	for i := 0; i < len(rd); i++ {
		if c := rd[i]; c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	if rd[0] == '/' {
		return p.validateRelative(rd)
	}
	return p.validateAbsolute(rd)
}

func (p *redirectPolicy) validateRelative(rd string) (string, bool) {
	if len(rd) > 1 && (rd[1] == '/' || rd[1] == '\\') {
		return "", false
	}
	if !validRedirectPath(rd[:pathEnd(rd)]) {
		return "", false
	}
	u, err := url.Parse(rd)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return rd, true
}

func (p *redirectPolicy) validateAbsolute(rd string) (string, bool) {
	colon := schemeEnd(rd)
	if colon < 0 {
		return "", false
	}
	scheme := rd[:colon]
	var https bool
	switch {
	case strings.EqualFold(scheme, "https"):
		https = true
	case strings.EqualFold(scheme, "http"):
		if p.httpsOnly {
			return "", false
		}
	default:
		return "", false
	}
	// Exactly two slashes: browsers also accept "https:host", "https:/host"
	// and "https:///host", each in its own way.
	rest := rd[colon+1:]
	if len(rest) < 3 || rest[0] != '/' || rest[1] != '/' || rest[2] == '/' || rest[2] == '\\' {
		return "", false
	}
	rest = rest[2:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if authority == "" || strings.ContainsAny(authority, "@%\\ ") || hasBadRune(authority) {
		return "", false
	}
	h, port, ok := splitHostPort(authority)
	if !ok {
		return "", false
	}
	host, numeric, ok := canonicalHost(h)
	if !ok {
		return "", false
	}
	if port == 0 {
		port = defaultPort(https)
	}
	if !p.hostAllowed(host, port, https, numeric) {
		return "", false
	}
	if !validRedirectPath(tail[:pathEnd(tail)]) {
		return "", false
	}
	u, err := url.Parse(rd)
	if err != nil || !strings.EqualFold(u.Scheme, scheme) || u.User != nil || u.Opaque != "" || u.Host != authority {
		return "", false
	}
	if h == host {
		return rd, true
	}
	// Rewrite the host into its canonical ASCII form; the port stays as given.
	return scheme + "://" + host + authority[len(h):] + tail, true
}

// hostAllowed applies the host rules to a canonical host and an effective
// port. A numeric host ("ends in a number", as the URL standard puts it) is
// matched only exactly: "0x7f.1", "2130706433" or "127.1" are the same
// address as "127.0.0.1" to some parsers and not to others.
func (p *redirectPolicy) hostAllowed(host string, port int, https, numeric bool) bool {
	def := defaultPort(https)
	if host == p.gateway.host && port == p.gateway.port {
		return true
	}
	for _, u := range p.upstreams {
		if host == u.host && (port == u.port || u.port == 0 && (port == def || port == p.gateway.port)) {
			return true
		}
	}
	for _, a := range p.allowExact {
		if host == a.host && portMatches(a.port, port, def) {
			return true
		}
	}
	if numeric {
		return false
	}
	for _, a := range p.allowSuffix {
		if !portMatches(a.port, port, def) {
			continue
		}
		if host == a.host || strings.HasSuffix(host, a.host) && host[len(host)-len(a.host)-1] == '.' {
			return true
		}
	}
	return false
}

// portMatches: an entry without a port matches only the default port.
func portMatches(entry, port, def int) bool {
	if entry == 0 {
		return port == def
	}
	return port == entry
}

func defaultPort(https bool) int {
	if https {
		return 443
	}
	return 80
}

// schemeEnd returns the index of the ':' ending a URL scheme at the start
// of s, or -1.
func schemeEnd(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return i
		default:
			return -1
		}
	}
	return -1
}

// pathEnd returns where the path of s ends: at the query or fragment.
func pathEnd(s string) int {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		return i
	}
	return len(s)
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port". The port,
// when present, must be 1–65535 in decimal; 0 means absent.
func splitHostPort(s string) (host string, port int, ok bool) {
	var ps string
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, false
		}
		host, ps = s[:end+1], s[end+1:]
		if ps != "" {
			if ps[0] != ':' {
				return "", 0, false
			}
			ps = ps[1:]
			if ps == "" {
				return "", 0, false
			}
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, ps = s[:i], s[i+1:]
		if ps == "" {
			return "", 0, false
		}
	} else {
		host = s
	}
	if host == "" {
		return "", 0, false
	}
	if ps == "" {
		return host, 0, true
	}
	if len(ps) > 5 {
		return "", 0, false
	}
	for i := 0; i < len(ps); i++ {
		if ps[i] < '0' || ps[i] > '9' {
			return "", 0, false
		}
	}
	n, err := strconv.Atoi(ps)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, false
	}
	return host, n, true
}

// canonicalHost returns h (no port) in hostname.Canonical form, the one
// canonical form routing and config use too, and whether it is numeric (an
// IP literal, or a name a browser would parse as an IPv4 address).
func canonicalHost(h string) (host string, numeric, ok bool) {
	host, err := hostname.CanonicalName(h)
	if err != nil {
		return "", false, false
	}
	return host, host[0] == '[' || endsInNumber(host), true
}

// endsInNumber is the URL standard's test for a host that browsers parse as
// IPv4: the last label is decimal digits or 0x followed by hex digits.
func endsInNumber(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		for i := 2; i < len(last); i++ {
			if _, ok := unhex(last[i]); !ok {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			return false
		}
	}
	return true
}

// redirectTo answers with a redirect to target, which the redirect policy
// accepted or the gateway built itself. Unlike http.Redirect it never
// rewrites a relative target: http.Redirect runs path.Clean over everything
// before the first '?', fragment included, which turns the accepted
// "/a#/../\evil.com" into "/\evil.com", and a browser reads that as
// //evil.com. Bytes outside printable ASCII are percent-encoded so that the
// header stays ASCII; the policy has refused control characters already.
func redirectTo(w http.ResponseWriter, target string, code int) {
	w.Header().Set("Location", escapeBytes(target, false))
	w.WriteHeader(code)
}
