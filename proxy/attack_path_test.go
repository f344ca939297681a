package proxy_test

import (
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/socialgate/socialgate/proxy"
)

// pathPayloads are request-targets, sent byte for byte, that try to reach
// /private through /public or make the gateway and an upstream disagree
// about the path.
var pathPayloads = []string{
	// The list.
	"/public/../private", "/public%2f..%2fprivate", "//private", "/public/..;/private",
	"/public%23x", "/public%5c..", "/public/%00",
	// Dot-segments, plain, encoded, double-encoded and disguised.
	"/public/..%2fprivate", "/public%2F..%2Fprivate", "/public/%2e%2e/private", "/public/%2E%2E/private",
	"/public/.%2e/private", "/public/%2e./private", "/public/%2e%2e%2fprivate", "/public/%2e%2e%5cprivate",
	"/public/%252e%252e/private", "/public/%252f../private", "/public/..%252fprivate", "/public%2f%2e%2e%2fprivate",
	"/public/%c0%ae%c0%ae/private", "/public/%u002e%u002e/private", "/public/.../private", "/public/.. /private",
	"/public/..%20/private", "/public/%20../private", "/public/..%09/private", "/public/..%00/private",
	"/public/..%0a/private", "/public/%2e%2e;/private", "/public/.;/../private", "/public/..;x=1/private",
	"/public;/../private", "/public/x/../../private", "/public/./../private", "/public//../private",
	"/public/.%00./private", "/./private", "///private", "//private/", "/public/..",
	// Separators the gateway must not read differently from an upstream.
	"/public%23/../private", "/public%3f/../private", "/public?/../private", "/public#/../private",
	"/public%5c..%5cprivate", `/public\..\private`, `/public/..\/private`, "/public/%00/../private",
	"/public%00/private", "/public/..\xe2\x88\x95private", "/public/%e2%88%95..%e2%88%95private",
	"/public/%ef%bc%8f..%ef%bc%8fprivate", "/public/..%ef%bc%8fprivate",
	// Case and absolute-form.
	"/PUBLIC/../private", "/public/../PRIVATE", "http://127.0.0.1/private", "http://127.0.0.1/public/../private",
	"HTTP://127.0.0.1/public/%2e%2e/private",
	// /private itself, spelt differently.
	"/%70rivate", "/pr%69vate", "/private", "/private/", "/private;x", "/private%3bx", "/private%2F",
	"/private/%2e%2e/public", "/private/..;/public", "*",
	// Issue 8: escapes left after one decoding, and spellings that
	// Unicode normalisation or trimming turns into /private.
	"/%2570rivate", "/priv%2561te/x", "/%2570rivate/x", "/private%2520", "/%2550rivate",
	"/%EF%BD%90rivate", "/\xef\xbd\x90rivate", "/%EF%BD%90%EF%BD%92%EF%BD%89%EF%BD%96%EF%BD%81%EF%BD%94%EF%BD%85",
	"/private%20", "/private%20/x", "/private.", "/private./x", "/private%20.", "/private%09", "/private%E3%80%80",
	"/private%C2%A0", "/%20private", "/private%E2%80%8B", "/pri%E2%80%8Bvate", "/private%EF%BB%BF",
	"/pr%C4%B1vate", "/p%E1%B4%BFivate", "/%E2%93%9Frivate", "/private%E3%80%82",
}

// underPrivate reports whether an upstream that decodes p once more and
// resolves dot-segments would serve it from /private.
// So would one that normalises it (NFC, NFKC) or trims spaces, dots and
// invisible characters from its segments.
func underPrivate(p string) bool {
	if d, err := url.PathUnescape(p); err == nil {
		p = d
	}
	p = path.Clean("/" + strings.ReplaceAll(p, `\`, "/"))
	for _, q := range []string{p, norm.NFC.String(p), norm.NFKC.String(p), trimmedReading(norm.NFKC.String(p))} {
		if q == "/private" || strings.HasPrefix(q, "/private/") || strings.HasPrefix(q, "/private;") {
			return true
		}
	}
	return false
}

// trimmedReading is p as Windows and trimming frameworks read it: spaces
// and trailing dots off each segment, format characters removed.
func trimmedReading(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		s = strings.Map(func(r rune) rune {
			if unicode.Is(unicode.Cf, r) {
				return -1
			}
			return r
		}, s)
		segs[i] = strings.TrimRight(strings.TrimSpace(s), ". ")
	}
	return strings.Join(segs, "/")
}

// TestAttackPathAmbiguity: no payload reaches the protected upstream
// without a session, in a gateway that protects "/" and one that does
// not; whatever reaches the public upstream means a public path to it too.
func TestAttackPathAmbiguity(t *testing.T) {
	configs := []struct {
		name string
		// routes builds the gateway's routes on the two upstreams.
		routes func(pub, priv *upstreamLog) []proxy.Route
		// publicOK reports whether a path the public upstream got is one
		// it may get.
		publicOK func(p string) bool
	}{
		{"protected root", attackRoutes, func(p string) bool {
			d, _ := url.PathUnescape(p)
			d = path.Clean(d)
			return d == "/public" || strings.HasPrefix(d, "/public/") || strings.HasPrefix(d, "/public;")
		}},
		{"public root", func(pub, priv *upstreamLog) []proxy.Route {
			return []proxy.Route{
				{Name: "site", Path: "/", URL: pub.url(), Public: true},
				{Name: "private", Path: "/private", URL: priv.url()},
			}
		}, func(p string) bool { return !underPrivate(p) }},
	}
	for _, cfg := range configs {
		t.Run(cfg.name, func(t *testing.T) {
			a := &attackGateway{public: newUpstreamLog(t, "public"), private: newUpstreamLog(t, "private")}
			a.gateway = newGateway(t, gatewayConfig{routes: func(string) []proxy.Route { return cfg.routes(a.public, a.private) }})
			a.addr = strings.TrimPrefix(a.URL, "http://")
			for _, target := range pathPayloads {
				resp := rawRequest(t, a.addr, rawGet(target))
				if resp.Status >= 500 {
					t.Errorf("GET %q: status %d, want a 4xx or a redirect", target, resp.Status)
				}
				if got := a.private.take(); len(got) > 0 {
					t.Errorf("GET %q reached the protected upstream without a session as %q", target, got[0].RequestURI)
				}
				for _, r := range a.public.take() {
					if !cfg.publicOK(r.Path) || !cfg.publicOK(strings.SplitN(r.RequestURI, "?", 2)[0]) {
						t.Errorf("GET %q reached the public upstream as %q, which it may read as protected", target, r.RequestURI)
					}
				}
			}
		})
	}
}

// TestAttackPathForwardedAsMatched: the upstream gets the cleaned path
// the gateway routed on, Hangul and legitimate escapes intact, and the
// query as it came.
func TestAttackPathForwardedAsMatched(t *testing.T) {
	a := newAttackGateway(t, gatewayConfig{})
	tests := []struct{ target, want string }{
		{"/public/x", "/public/x"},
		{"//public//x/./y", "/public/x/y"},
		{"/public/a/b/../c/", "/public/a/c/"},
		{"/public/%ED%95%9C%EA%B8%80?q=%ED%95%9C&x=a%2Fb", "/public/%ED%95%9C%EA%B8%80?q=%ED%95%9C&x=a%2Fb"},
		{"/public/\xed\x95\x9c", "/public/%ED%95%9C"},
		{"/public/my%20report.pdf", "/public/my%20report.pdf"},
		{"/public;jsessionid=1", "/public;jsessionid=1"},
		// Routed and forwarded decoded: ';' ends a segment for the prefix
		// match too, so it cannot move a request across routes.
		{"/public/a%3Bb", "/public/a;b"},
		{"/public/a?back=//x/../y", "/public/a?back=//x/../y"},
	}
	for _, tt := range tests {
		resp := rawRequest(t, a.addr, rawGet(tt.target))
		got := a.public.take()
		if resp.Status != http.StatusOK || len(got) != 1 {
			t.Errorf("GET %q: status %d, %d upstream requests; want 200 and 1", tt.target, resp.Status, len(got))
			continue
		}
		if got[0].RequestURI != tt.want {
			t.Errorf("GET %q: upstream got %q, want %q", tt.target, got[0].RequestURI, tt.want)
		}
	}
}

// TestAttackPathLookalikesRefused: characters that a normalising (NFKC) or
// best-fit code-page upstream reads as '/', '\' or '.' get 400 before
// routing: "/public/..／private" is one segment here and /private there.
func TestAttackPathLookalikesRefused(t *testing.T) {
	a := newAttackGateway(t, gatewayConfig{})
	for _, target := range []string{
		"/public/..%EF%BC%8Fprivate", "/public/..\xef\xbc\x8fprivate", "/public/%EF%BC%8E%EF%BC%8E/private",
		"/public/..%E2%82%A9private", "/public/%E2%82%A9..%E2%82%A9private", "/public/..%C2%A5private",
		"/public/..%E2%88%95private", "/public/..%EF%BC%BCprivate", "/public/%E2%80%A4%E2%80%A4/private",
		"/public/%EF%B9%92%EF%B9%92/private", "/public/..%EF%B9%A8private", "/public/..%E2%81%84private",
	} {
		if resp := rawRequest(t, a.addr, rawGet(target)); resp.Status != http.StatusBadRequest {
			t.Errorf("GET %q: status %d, want 400", target, resp.Status)
		}
		if n := len(a.public.take()) + len(a.private.take()); n > 0 {
			t.Errorf("GET %q reached an upstream", target)
		}
	}
}

// TestAttackPathNormalisedRoutesElsewhere (issue 8 item 3): under a public
// root, a path whose NFC, NFKC or trimmed reading falls under a protected
// prefix is a 400 from the reverse proxy and from /oauth2/auth alike; a
// path whose readings all stay on its route is served as it came.
func TestAttackPathNormalisedRoutesElsewhere(t *testing.T) {
	a := &attackGateway{public: newUpstreamLog(t, "public"), private: newUpstreamLog(t, "private")}
	a.gateway = newGateway(t, gatewayConfig{trusted: []string{"127.0.0.0/8"}, routes: func(string) []proxy.Route {
		return []proxy.Route{
			{Name: "site", Path: "/", URL: a.public.url(), Public: true},
			{Name: "private", Path: "/private", URL: a.private.url()},
			{Name: "hangul", Path: "/비공개", URL: a.private.url()},
		}
	}})
	a.addr = strings.TrimPrefix(a.URL, "http://")
	nfd := norm.NFD.String("비공개")
	for _, tc := range []struct {
		target string
		want   int
	}{
		{"/%2570rivate", 400}, {"/priv%2561te/x", 400}, {"/%EF%BD%90rivate", 400}, {"/\xef\xbd\x90rivate", 400},
		{"/" + url.PathEscape(nfd), 400}, {"/" + url.PathEscape(nfd) + "/x", 400}, {"/" + nfd, 400},
		{"/private%20", 400}, {"/private.", 400}, {"/private%E3%80%80", 400}, {"/private%E2%80%8B/x", 400},
		{"/%20private", 400}, {"/%EB%B9%84%EA%B3%B5%EA%B0%9C%20", 400}, {"/%EF%BD%90rivate%20", 400},
		// Readings that make a dot-segment: "/x/../private" to an app that
		// normalises and then resolves it (‥ U+2025, … U+2026, a zero-width
		// space or a space after "..").
		{"/x/%E2%80%A5/private", 400}, {"/x/%E2%80%A6/private", 400}, {"/x/..%E2%80%8B/private", 400},
		{"/x/..%20/private", 400}, {"/x/%20../private", 400}, {"/x/%EF%BC%8E%EF%BC%8E/private", 400},
		// Readings that stay on the public route: served.
		{"/a%20b", 200}, {"/%EC%95%88%EB%82%B4", 200}, {"/" + url.PathEscape(norm.NFD.String("안내")), 200},
		{"/%EF%BD%81bout", 200}, {"/files/report.", 200}, {"/100%25", 200},
		// The protected routes themselves: the sign-in redirect.
		{"/private", 302}, {"/%EB%B9%84%EA%B3%B5%EA%B0%9C/x", 302},
	} {
		resp := rawRequest(t, a.addr, rawGet(tc.target))
		if resp.Status != tc.want {
			t.Errorf("GET %q: status %d, want %d", tc.target, resp.Status, tc.want)
		}
		if got := a.private.take(); len(got) > 0 {
			t.Errorf("GET %q reached the protected upstream as %q", tc.target, got[0].RequestURI)
		}
		a.public.take()
		if tc.want == 400 {
			// Forward-auth decides the same way.
			fa := rawRequest(t, a.addr, rawGet("/oauth2/auth", "X-Forwarded-Uri: "+tc.target))
			if fa.Status != 400 {
				t.Errorf("/oauth2/auth for %q: status %d, want 400", tc.target, fa.Status)
			}
		}
	}
}
