package proxy

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/socialgate/socialgate/bearer"
	"github.com/socialgate/socialgate/proxy/hostname"
)

// Route is one upstream and the policy in front of it.
type Route struct {
	Name string
	// Host, when set, must equal the request's host (with its port when the
	// entry has one), both in hostname.Canonical form: case, IDNA and a
	// trailing dot do not matter.
	Host string
	// Path is the route's prefix; the longest matching prefix wins.
	Path string
	// URL is where matching requests go. Nil: the route only answers
	// forward-auth decisions (/oauth2/auth); proxied requests get 404.
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
	// Bearer, when set, accepts JWT access tokens of machine clients from
	// these issuers and audiences (Options.Bearer verifies them). Nil: a
	// bearer token on a protected route is refused with 401.
	Bearer []bearer.Audience
}

// Allow restricts a route to some users and clients. Each kind of
// credential is judged by the rules of its kind: a browser session by
// Providers, Emails, EmailDomains and Users; a bearer token by Scopes and
// Clients. A kind the route has no rules for is let in when the route has
// no rules at all (any signed-in user, any verified token) and refused
// when it has rules of the other kind only: allow.scopes alone makes an
// API for machine clients, not one for every signed-in user.
//
// Sessions: Providers, when set, must contain the user's provider; then,
// when any of Emails, EmailDomains or Users is set, at least one of them
// must match. Only a verified e-mail can satisfy Emails or EmailDomains.
// Tokens: every one of Scopes must be granted, and Clients, when set,
// must contain the token's client.
type Allow struct {
	Providers    []string
	Emails       []string
	EmailDomains []string
	Users        []string // "kakao:123456"
	Scopes       []string
	Clients      []string
}

// route is a Route prepared for matching.
type route struct {
	Route
	host     string // canonical Host match (hostname.Canonical); "" = any
	hostPort bool   // Host carries a port: compare host:port
	enc      headerEncoding
	// The rules for sessions and for bearer tokens (see Allow). Each allow
	// key compiles to one rule; a new rule kind (groups, claims) is a new
	// type and a choice of set and list.
	sessionRules, tokenRules ruleSet
	// bearer verifies tokens for this route; nil: tokens are refused.
	bearer *bearer.Rule
}

// ruleSet: every rule of all must hold, and when any is not empty, one of
// any must hold too.
type ruleSet struct{ all, any []rule }

func (rs ruleSet) empty() bool { return len(rs.all) == 0 && len(rs.any) == 0 }

func (rs ruleSet) allows(p principal) bool {
	for _, r := range rs.all {
		if !r.allows(p) {
			return false
		}
	}
	if len(rs.any) == 0 {
		return true
	}
	for _, r := range rs.any {
		if r.allows(p) {
			return true
		}
	}
	return false
}

// rule is one condition of a route's allow block. A rule that does not
// know the principal's kind of credential answers false: fail closed.
type rule interface {
	allows(p principal) bool
}

// providerRule: the session's provider (instance id) is listed.
type providerRule map[string]bool

func (r providerRule) allows(p principal) bool { return p.sess != nil && r[p.sess.Provider] }

// userRule: "provider:subject" is listed or, with accounts, the gateway
// user ("sg_…") or any identity linked to it: linking is proven by signing
// in with both, so the person owns each of them.
type userRule map[string]bool

func (r userRule) allows(p principal) bool {
	if p.sess == nil {
		return false
	}
	if r[p.sess.User()] {
		return true
	}
	if p.sess.Account == "" {
		return false
	}
	if r[p.sess.Account] {
		return true
	}
	for _, id := range p.sess.Identities {
		if r[id] {
			return true
		}
	}
	return false
}

// emailRule: the verified e-mail, ASCII case folded, is listed.
type emailRule map[string]bool

func (r emailRule) allows(p principal) bool {
	e, ok := verifiedEmail(p)
	return ok && r[e]
}

// domainRule: the verified e-mail's domain equals a listed one exactly.
type domainRule map[string]bool

func (r domainRule) allows(p principal) bool {
	e, ok := verifiedEmail(p)
	if !ok {
		return false
	}
	// Exactly one '@': "a@evil.com@example.com" never reaches a domain rule.
	at := strings.IndexByte(e, '@')
	if at <= 0 || strings.IndexByte(e[at+1:], '@') >= 0 {
		return false
	}
	return r[e[at+1:]]
}

// verifiedEmail is the folded e-mail of a session whose provider verified
// it; only such an e-mail can satisfy an e-mail rule.
func verifiedEmail(p principal) (string, bool) {
	if p.sess == nil || !p.sess.EmailVerified || p.sess.Email == "" {
		return "", false
	}
	return asciiLower(p.sess.Email), true
}

// policy holds the routes; Server.decide (decide.go) is the one place that
// uses it to decide, for the reverse proxy and /oauth2/auth alike.
type policy struct {
	routes []*route // longest path first; with a host before without
	// maxPrefix is the longest route path without its trailing '/', the
	// most of a path pathHasPrefix reads (ambiguous uses it).
	maxPrefix int
}

func newPolicy(routes []Route, verifier *bearer.Verifier) (*policy, error) {
	p := &policy{}
	seen := map[string]bool{}
	for _, r := range routes {
		// A route without URL only answers forward-auth decisions.
		if r.URL != nil && ((r.URL.Scheme != "http" && r.URL.Scheme != "https") || r.URL.Host == "") {
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
		rt := &route{Route: r, enc: enc}
		if r.Host != "" {
			if rt.host, err = hostname.Canonical(r.Host); err != nil {
				return nil, fmt.Errorf("route %q: host: %w", r.Name, err)
			}
			_, port := hostname.Split(rt.host)
			rt.hostPort = port != ""
		}
		key := rt.host + " " + r.Path
		if seen[key] {
			return nil, fmt.Errorf("route %q: another route has the same host and path", r.Name)
		}
		seen[key] = true
		ss, ts := &rt.sessionRules, &rt.tokenRules
		if len(r.Allow.Providers) > 0 {
			ss.all = append(ss.all, providerRule(set(r.Allow.Providers)))
		}
		if len(r.Allow.Users) > 0 {
			ss.any = append(ss.any, userRule(set(r.Allow.Users)))
		}
		if len(r.Allow.Emails) > 0 {
			ss.any = append(ss.any, emailRule(lowerSet(r.Allow.Emails)))
		}
		if len(r.Allow.EmailDomains) > 0 {
			ss.any = append(ss.any, domainRule(lowerSet(r.Allow.EmailDomains)))
		}
		if len(r.Allow.Scopes) > 0 {
			ts.all = append(ts.all, scopeRule(slices.Clone(r.Allow.Scopes)))
		}
		if len(r.Allow.Clients) > 0 {
			ts.all = append(ts.all, clientRule(slices.Clone(r.Allow.Clients)))
		}
		if len(r.Bearer) > 0 {
			if r.Public {
				return nil, fmt.Errorf("route %q: bearer on a public route has no effect", r.Name)
			}
			if verifier == nil {
				return nil, fmt.Errorf("route %q: bearer issuers given but no bearer verifier", r.Name)
			}
			if rt.bearer, err = verifier.Rule(r.Bearer); err != nil {
				return nil, fmt.Errorf("route %q: %w", r.Name, err)
			}
		} else if !ts.empty() {
			return nil, fmt.Errorf("route %q: allow.scopes and allow.clients need bearer issuers", r.Name)
		}
		p.routes = append(p.routes, rt)
		p.maxPrefix = max(p.maxPrefix, len(strings.TrimRight(r.Path, "/")))
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

// match finds the route for a canonical host (hostname.Canonical; "" when
// the request named none) and a cleaned path.
func (p *policy) match(host, cleanedPath string) *route {
	name, _ := hostname.Split(host)
	for _, rt := range p.routes {
		if rt.host != "" && !rt.hostMatches(host, name) {
			continue
		}
		if pathHasPrefix(cleanedPath, rt.Path) {
			return rt
		}
	}
	return nil
}

// hostMatches: a route host with a port needs that host and port; one
// without a port matches the name on any port.
func (rt *route) hostMatches(host, name string) bool {
	if rt.hostPort {
		return rt.host == host
	}
	return rt.host == name
}

// isRouteHost reports whether a canonical host is one a route matches on.
func (p *policy) isRouteHost(host string) bool {
	name, _ := hostname.Split(host)
	for _, rt := range p.routes {
		if rt.host != "" && rt.hostMatches(host, name) {
			return true
		}
	}
	return false
}

// upstreamHosts lists the route host matches, for the redirect policy.
func (p *policy) upstreamHosts() []string {
	var hs []string
	for _, rt := range p.routes {
		if rt.host != "" {
			hs = append(hs, rt.host)
		}
	}
	return hs
}

// allows reports whether the principal may use the route, by the rules of
// its credential's kind (see Allow). No rules at all: any signed-in
// principal; rules of the other kind only: refused (fail closed).
func (rt *route) allows(p principal) bool {
	if !p.signedIn() {
		return false
	}
	mine, other := rt.sessionRules, rt.tokenRules
	if p.tok != nil {
		mine, other = rt.tokenRules, rt.sessionRules
	}
	if mine.empty() {
		return other.empty()
	}
	return mine.allows(p)
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
