package proxy_test

// The attack suite (attack_*_test.go) drives the real gateway over HTTP,
// and over raw TCP where the bytes must reach the server exactly as
// written, with the payloads of docs/SECURITY.md. This file holds what the
// suite shares: a gateway with a public and a protected upstream that
// record what reaches them, raw requests, and a browser-like reading of
// redirect targets.

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/idna"

	"github.com/socialgate/socialgate/proxy"
)

// upstreamLog is an upstream app that records every request reaching it
// (trailers and a bounded body included) and answers 200 with JSON.
type upstreamLog struct {
	name string
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []seenRequest
}

type seenRequest struct {
	Method, Host, RequestURI, Path string
	Header, Trailer                http.Header
	Body                           string
}

func newUpstreamLog(t testing.TB, name string) *upstreamLog {
	u := &upstreamLog{name: name}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		seen := seenRequest{Method: r.Method, Host: r.Host, RequestURI: r.RequestURI, Path: r.URL.Path,
			Header: r.Header.Clone(), Trailer: r.Trailer.Clone(), Body: string(body)}
		u.mu.Lock()
		u.reqs = append(u.reqs, seen)
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"upstream": name, "RequestURI": r.RequestURI, "Header": r.Header})
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstreamLog) url() *url.URL {
	p, _ := url.Parse(u.srv.URL)
	return p
}

// requests returns what reached the upstream so far and forgets it.
func (u *upstreamLog) take() []seenRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	r := u.reqs
	u.reqs = nil
	return r
}

// attackGateway is a gateway whose public routes go to one upstream and
// whose protected routes go to another, so a test can tell which was
// reached.
type attackGateway struct {
	*gateway
	addr    string // host:port of the gateway
	public  *upstreamLog
	private *upstreamLog
}

// Hosts the attack gateway's redirect policy allows besides its own:
// an upstream host match and redirects.allowed_hosts.
const (
	attackUpstreamHost = "wiki.example.com"
	attackAllowedExact = "app.example.com"
	attackAllowedZone  = "corp.example.com" // configured as ".corp.example.com"
)

// attackRoutes: /public is public; /private, / and the wiki host are
// protected; the rest carry e-mail rules. Public and protected routes go
// to different upstreams.
func attackRoutes(pub, priv *upstreamLog) []proxy.Route {
	p, q := pub.url(), priv.url()
	return []proxy.Route{
		{Name: "public", Path: "/public", URL: p, Public: true},
		{Name: "private", Path: "/private", URL: q},
		{Name: "app", Path: "/", URL: q},
		{Name: "wiki", Host: attackUpstreamHost, Path: "/", URL: q},
		{Name: "domain", Path: "/domain", URL: q, Allow: proxy.Allow{EmailDomains: []string{"example.com"}}},
		{Name: "emails", Path: "/emails", URL: q, Allow: proxy.Allow{Emails: []string{"boss@example.com", "kim@example.com"}}},
		{Name: "naver-domain", Path: "/naver-domain", URL: q, Allow: proxy.Allow{EmailDomains: []string{"naver.com"}}},
		{Name: "kakao-only", Path: "/kakao-only", URL: q, Allow: proxy.Allow{Providers: []string{"kakao"}}},
	}
}

// newAttackGateway starts a gateway with attackRoutes (unless cfg sets
// routes) and the attack allowed hosts.
func newAttackGateway(t testing.TB, cfg gatewayConfig) *attackGateway {
	t.Helper()
	a := &attackGateway{public: newUpstreamLog(t, "public"), private: newUpstreamLog(t, "private")}
	if cfg.routes == nil {
		cfg.routes = func(string) []proxy.Route { return attackRoutes(a.public, a.private) }
	}
	if cfg.allowed == nil {
		cfg.allowed = []string{attackAllowedExact, "." + attackAllowedZone}
	}
	a.gateway = newGateway(t, cfg)
	a.addr = strings.TrimPrefix(a.URL, "http://")
	return a
}

// signIn logs a fresh browser in as userID at provider and returns it with
// its "name=value" session cookie.
func (a *attackGateway) signIn(t *testing.T, provider, userID string) (*browser, string) {
	t.Helper()
	b := newBrowser(t)
	if resp, _ := a.login(b, provider, userID, a.URL+"/private/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("login as %s:%s: status %d, hops %v", provider, userID, resp.StatusCode, b.hops)
	}
	a.private.take()
	return b, sessionCookie(t, b, a.gateway)
}

// rawResponse is what came back on a raw connection; Status 0 means the
// server closed it without an answer, which is a refusal too.
type rawResponse struct {
	Status int
	Header http.Header
	Body   string
}

// rawRequest writes req to the gateway byte for byte on a new connection
// and reads one response. Go's client would canonicalise header names and
// the request-target; this does not.
func rawRequest(t testing.TB, addr, req string) rawResponse {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		return rawResponse{}
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return rawResponse{}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// rawGet builds a raw GET with the given target and extra header lines.
func rawGet(target string, headers ...string) string {
	var b strings.Builder
	b.WriteString("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\nConnection: close\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// redirectAllowed reports whether a browser that got Location loc from the
// attack gateway ends up on an allowed host. It reads loc twice, as net/url
// resolves it and as a lenient browser does (tabs and newlines dropped,
// '\' as '/', any number of slashes after the scheme, user-info up to the
// last '@', Unicode hosts mapped), and both must land on the gateway, the
// wiki upstream host (default port or the gateway's) or allowed_hosts.
func (a *attackGateway) redirectAllowed(loc string) bool {
	base, _ := url.Parse(a.URL + "/oauth2/callback/kakao")
	u, err := url.Parse(loc)
	if err != nil {
		return false
	}
	r := base.ResolveReference(u)
	if r.User != nil || !a.hostAllowed(r.Scheme, r.Hostname(), r.Port()) {
		return false
	}
	scheme, host, port, abs := lenientAuthority(loc)
	if !abs {
		return true
	}
	return a.hostAllowed(scheme, host, port)
}

func (a *attackGateway) hostAllowed(scheme, host, port string) bool {
	scheme = strings.ToLower(scheme)
	def := map[string]string{"http": "80", "https": "443"}[scheme]
	if def == "" {
		return false
	}
	h, err := idna.Lookup.ToASCII(host)
	if err != nil {
		return false
	}
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if port == "" {
		port = def
	}
	gwHost, gwPort, _ := net.SplitHostPort(a.addr)
	switch {
	case h == gwHost && port == gwPort,
		h == attackUpstreamHost && (port == def || port == gwPort),
		h == attackAllowedExact && port == def,
		(h == attackAllowedZone || strings.HasSuffix(h, "."+attackAllowedZone)) && port == def:
		return true
	}
	return false
}

// lenientAuthority reads the scheme, host and port of s the way the URL
// standard does for http(s); abs is false when s is relative to the
// current host. Any other scheme comes back with an empty host.
func lenientAuthority(s string) (scheme, host, port string, abs bool) {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, s)
	rest := ""
	switch {
	case strings.HasPrefix(s, "//"):
		scheme, rest = "http", s
	case strings.HasPrefix(s, "/"), s == "":
		return "", "", "", false
	default:
		i := strings.IndexByte(s, ':')
		if i < 0 || strings.ContainsAny(s[:i], "/?#") {
			return "", "", "", false
		}
		scheme, rest = strings.ToLower(s[:i]), s[i+1:]
		if scheme != "http" && scheme != "https" {
			return scheme, "", "", true
		}
	}
	rest = strings.TrimLeft(rest, "/")
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		rest, port = rest[:i], rest[i+1:]
	}
	if d, err := url.PathUnescape(rest); err == nil {
		rest = d
	}
	return scheme, strings.Trim(rest, "[]"), port, true
}
