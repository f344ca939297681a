package proxy

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/socialgate/socialgate/session"
)

// Route is one upstream and the policy in front of it.
type Route struct {
	Name string
	// Host, when set, must equal the request's host (with its port when the
	// entry has one); compared case-insensitively.
	Host string
	// Path is the route's prefix; the longest matching prefix wins.
	Path string
	// URL is where matching requests go.
	URL *url.URL
	// Public routes need no session; identity headers are still sent when
	// the browser happens to be signed in.
	Public bool
	Allow  Allow
	// HeaderEncoding is how non-ASCII identity values are sent: "percent"
	// (zero value), "raw", "base64" or "euc-kr".
	HeaderEncoding string
	// PassAccessToken sends the provider's access token as
	// X-Forwarded-Access-Token.
	PassAccessToken bool
	// PreserveHost keeps the client's Host header instead of the URL's.
	PreserveHost bool
}

// Allow restricts a route to some users. Empty means any signed-in user.
// Providers, when set, must contain the user's provider; then, when any of
// Emails, EmailDomains or Users is set, at least one of them must match.
// Only a verified e-mail can satisfy Emails or EmailDomains.
type Allow struct {
	Providers    []string
	Emails       []string
	EmailDomains []string
	Users        []string // "kakao:123456"
}

// route is a Route prepared for matching.
type route struct {
	Route
	host     string // normalised Host
	hostPort bool   // Host carries a port: compare host:port
	enc      headerEncoding
	emails   map[string]bool
	domains  map[string]bool
	users    map[string]bool
	provs    map[string]bool
}

// policy is the one place that decides which route a request goes to and
// whether a session may use it; the reverse proxy and /oauth2/auth both ask it.
type policy struct {
	routes []*route // longest path first; with a host before without
}

func newPolicy(routes []Route) (*policy, error) {
	p := &policy{}
	seen := map[string]bool{}
	for _, r := range routes {
		if r.URL == nil || (r.URL.Scheme != "http" && r.URL.Scheme != "https") || r.URL.Host == "" {
			return nil, fmt.Errorf("route %q: url must be an absolute http(s) URL", r.Name)
		}
		if r.Path == "" {
			r.Path = "/"
		}
		if !strings.HasPrefix(r.Path, "/") {
			return nil, fmt.Errorf("route %q: path must start with /", r.Name)
		}
		enc, err := parseHeaderEncoding(r.HeaderEncoding)
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", r.Name, err)
		}
		rt := &route{Route: r, enc: enc, host: normHost(r.Host)}
		_, _, err = net.SplitHostPort(rt.host)
		rt.hostPort = err == nil
		key := rt.host + " " + r.Path
		if seen[key] {
			return nil, fmt.Errorf("route %q: another route has the same host and path", r.Name)
		}
		seen[key] = true
		rt.emails = lowerSet(r.Allow.Emails)
		rt.domains = lowerSet(r.Allow.EmailDomains)
		rt.users = set(r.Allow.Users)
		rt.provs = set(r.Allow.Providers)
		p.routes = append(p.routes, rt)
	}
	slices.SortStableFunc(p.routes, func(a, b *route) int {
		if d := len(b.Path) - len(a.Path); d != 0 {
			return d
		}
		if (a.host != "") != (b.host != "") {
			if a.host != "" {
				return -1
			}
			return 1
		}
		return 0
	})
	return p, nil
}

// match finds the route for host (as the client sent it) and cleaned path.
func (p *policy) match(host, cleanedPath string) *route {
	h := normHost(host)
	name := h
	if hn, _, err := net.SplitHostPort(h); err == nil {
		name = hn
	}
	for _, rt := range p.routes {
		if rt.host != "" {
			if rt.hostPort {
				if rt.host != h {
					continue
				}
			} else if rt.host != name {
				continue
			}
		}
		if pathHasPrefix(cleanedPath, rt.Path) {
			return rt
		}
	}
	return nil
}

// isRouteHost reports whether host (as the client sent it) is one a route
// matches on.
func (p *policy) isRouteHost(host string) bool {
	h := normHost(host)
	name := h
	if hn, _, err := net.SplitHostPort(h); err == nil {
		name = hn
	}
	for _, rt := range p.routes {
		if rt.host != "" && (rt.host == h || (!rt.hostPort && rt.host == name)) {
			return true
		}
	}
	return false
}

// upstreamHosts lists the route host matches, for the redirect policy.
func (p *policy) upstreamHosts() []string {
	var hs []string
	for _, rt := range p.routes {
		if rt.Host != "" {
			hs = append(hs, rt.Host)
		}
	}
	return hs
}

// allows reports whether the signed-in session s may use the route.
func (rt *route) allows(s *session.Session) bool {
	if len(rt.provs) > 0 && !rt.provs[s.Provider] {
		return false
	}
	if len(rt.emails) == 0 && len(rt.domains) == 0 && len(rt.users) == 0 {
		return true
	}
	if rt.users[s.User()] {
		return true
	}
	if !s.EmailVerified || s.Email == "" {
		return false
	}
	email := asciiLower(s.Email)
	if rt.emails[email] {
		return true
	}
	// Exactly one '@': "a@evil.com@example.com" never reaches a domain rule.
	at := strings.IndexByte(email, '@')
	if at <= 0 || strings.IndexByte(email[at+1:], '@') >= 0 {
		return false
	}
	return rt.domains[email[at+1:]]
}

// normHost lowercases a host[:port] and drops one trailing dot of the name.
func normHost(h string) string {
	h = strings.ToLower(h)
	if name, port, err := net.SplitHostPort(h); err == nil {
		return net.JoinHostPort(strings.TrimSuffix(name, "."), port)
	}
	return strings.TrimSuffix(h, ".")
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func lowerSet(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[strings.TrimPrefix(asciiLower(x), "@")] = true
	}
	return m
}

// asciiLower folds only A–Z. E-mail rules compare addresses, and Unicode
// case folding would let a different mailbox match: strings.ToLower maps
// the Kelvin sign U+212A to 'k' and U+0130 to 'i', so "\u212Aim@example.com"
// would pass a rule for "kim@example.com".
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
