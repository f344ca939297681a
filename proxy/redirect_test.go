package proxy

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// The test gateway: https://gate.example.com, two upstream host matches
// (one with a port, one IDN), and allowed_hosts with an exact host, a
// domain, a host with a port and an IP literal with a port.
var (
	testPublicURL     = "https://gate.example.com"
	testUpstreamHosts = []string{"wiki.example.com", "", "app.internal:8443", "위키.example.kr"}
	testAllowedHosts  = []string{"app.example.com", ".corp.example.com", "tools.example.net:8443", "10.1.2.3:9000"}
)

// The demo-like gateway on plain http and a loopback port.
var (
	testHTTPPublicURL     = "http://127.0.0.1:4180"
	testHTTPUpstreamHosts = []string{"wiki.local"}
	testHTTPAllowedHosts  = []string{".example.com"}
)

func newTestPolicy(t testing.TB, public string, upstreams, allowed []string) *redirectPolicy {
	t.Helper()
	p, err := newRedirectPolicy(mustParse(t, public), upstreams, allowed)
	if err != nil {
		t.Fatalf("newRedirectPolicy(%q): %v", public, err)
	}
	return p
}

// redirectAttacks must all be refused by the https test policy. Many come
// from open-redirect reports against oauth2-proxy, Pomerium, Vouch and
// public payload lists.
var redirectAttacks = []string{
	// Protocol-relative and backslash tricks.
	"//evil.com", "///evil.com", "////evil.com", `/\evil.com`, `\/evil.com`,
	`\\evil.com`, `\evil.com`, `/\/evil.com`, `///\;@evil.com`, "//gate.example.com/",
	"/<>//evil.com", "/https://evil.com", "/a//b",
	// Whitespace and control characters that browsers drop or servers trim.
	"/\t/evil.com", "/\n/evil.com", "/\r/evil.com", "/ /evil.com", "/\x00/evil.com",
	"/\x7f/evil.com", " /evil.com", "\t/evil.com", "/evil.com ", "/a b",
	"/a?x=1\n", "/a?x=\r\nSet-Cookie:%20x=1", "/a#\tx",
	// Percent-encoding that opens a second door.
	"/%09/evil.com", "/%0D/evil.com", "/%0A/evil.com", "/%0d%0a/evil.com",
	"/%00/evil.com", "/%7f/evil.com", "/%20/evil.com", "/%20%20/evil.com", "/x%20",
	"/%5c/evil", "/%5Cevil.com", "/%2F%2Fevil.com", "/%2f%2fevil.com", "/%2F/evil.com",
	"/%2f%5cevil.com", "/a/%2F/b", "/a%2F%2Fb", "/%2F/%2F/evil.com",
	"/%252F%252Fevil.com", "/%255Cevil.com", "/%2509/evil.com", "/%zz", "/%", "/%e",
	// Dot-segments, plain and disguised.
	"/.//evil", "/./evil", "/../evil.com", "/a/..", "/%2e%2e/evil.com",
	"/%2e%2e%2fevil.com", "/.%2e/evil", "/%2E/evil", "/..;/evil", "/.;x/evil", "/.../evil",
	// Unicode spaces, invisible characters and slash lookalikes.
	"/\u3000/evil.com", "/%E3%80%80/evil.com", "/\u00a0/evil.com", "/%C2%A0/evil.com",
	"/\u2028/evil.com", "/%E2%80%A8/evil.com", "/\u200b/evil.com", "/%E2%80%8B/evil.com",
	"/\ufeff/evil.com", "/\u3164/evil.com", "/%E3%85%A4/evil.com", "/\u0085/evil",
	"/%C2%85/evil", "/\u202e/evil", "／／evil.com", "/／evil.com", "/＼evil.com",
	"/%EF%BC%8F/evil.com", "/%EF%BC%BC/evil.com", "/\u2215evil.com", "〱evil.com",
	"\u3035evil.com",
	// Not a path, not http(s).
	"", "evil.com", "evil.com/path", "?//evil.com", "#//evil.com", "%2F%2Fevil.com",
	"https%3A%2F%2Fevil.com", "javascript:alert(1)", "JavaScript:alert(1)",
	"javascript://gate.example.com/%0aalert(1)", "java\tscript:alert(1)",
	"data:text/html,<script>alert(1)</script>", "DATA:text/html;base64,PHNjcmlwdD4=",
	"vbscript:msgbox(1)", "file:///etc/passwd", "ftp://gate.example.com/",
	"ws://gate.example.com/", "blob:https://gate.example.com/uuid",
	"intent://evil.com#Intent;scheme=https;end",
	"kakaotalk://web/openExternal?url=https://evil.com", "mailto:a@evil.com",
	" https://gate.example.com/", "\x00https://gate.example.com/", "1https://gate.example.com/",
	// Other hosts, any spelling.
	"https://evil.com", "https://evil.com/", "http://evil.com", "HtTpS://evil.com",
	"HTTPS://EVIL.COM/", "https://evil.com:443/", "https://evil.com/gate.example.com",
	"https://evil.com?@gate.example.com", "https://evil.com#@gate.example.com",
	"https://evil.com/?https://gate.example.com",
	// Missing or extra slashes after the scheme.
	"https:evil.com", "https:/evil.com", "https:///evil.com", "https:////evil.com",
	`https:\\evil.com`, `https:/\evil.com`, `https:\/evil.com`, `https://\evil.com`,
	`http:\\evil.com`, "https:%2F%2Fevil.com", "https:gate.example.com",
	"https:/gate.example.com/", "https:///gate.example.com/",
	// User-info, even in front of a good host.
	"https://a@gate.example.com/", "https://@gate.example.com/",
	"https://gate.example.com@evil.com/", "https://gate.example.com:443@evil.com/",
	"http://good.com@evil.com", "https://evil.com%2F@gate.example.com",
	"http://evil.com%2F@gate.example.com", "https://evil.com%40gate.example.com",
	`https://evil.com\@gate.example.com`, `https://gate.example.com\@evil.com`,
	`https://gate.example.com:443\@evil.com`, "https://gate.example.com@evil.com#@gate.example.com",
	"https://gate.example.com\uFF20evil.com/",
	// Look-alike and suffix tricks.
	"https://gate.example.com.evil.com/", `https://gate.example.com\.evil.com`,
	"https://evilgate.example.com/", "https://corp.example.com.evil.com/",
	"https://evilcorp.example.com/", "https://example.com/", "https://sub.app.example.com/",
	"https://app.example.com.evil.com/", "https://wiki.example.com.evil.com/",
	"https://xn--80ak6aa92e.com/", "https://xn--gte-ema.example.com/",
	"https://g\u0430te.example.com/", "https://xn--wiki-.example.com/",
	// Encoded, mapped and separator characters in the host.
	"https://gate.example.com%2eevil.com", "https://gate%2eexample%2ecom/",
	"https://%65vil.com/", "https://ex%61mple.com", "https://evil.com%E3%80%82gate.example.com",
	"https://evil\u3002com", "https://evil\uff0ecom", "https://evil\uff61com",
	"https://\uff45\uff56\uff49\uff4c.com", "https://evil.com\u2044gate.example.com",
	"https://gate.example.com\uFF0Fevil.com", "https://gate.example.com\uFF03evil.com",
	"https://gate.example.com\uFF1A443/", "https://gate.example.com\u200b/",
	"https://gate.example.com\u3000/", "https://gate.example.com /", "https:// gate.example.com",
	"https://gate.example.com\x00.evil.com", "https://gate.example.com\t.evil.com",
	"https://gate.example.com;evil.com/", "https://gate.example.com,evil.com/",
	"https://evil.com&gate.example.com", "https://[gate.example.com]/",
	"https://*.corp.example.com/",
	"https://.gate.example.com/", "https://gate..example.com/", "https://gate.example.com../",
	"https://-gate.example.com/",
	// Ports.
	"https://gate.example.com:8443/", "https://gate.example.com:80/", "https://gate.example.com:/",
	"https://gate.example.com:0/", "https://gate.example.com:65536/", "https://gate.example.com:+443/",
	"https://gate.example.com:443:443/", "https://gate.example.com:0000443/",
	"https://app.example.com:8443/", "https://tools.example.net/", "https://tools.example.net:9443/",
	"https://wiki.example.com:8443/", "https://app.internal/", "https://app.internal:9443/",
	// Plain http when the gateway is https.
	"http://gate.example.com/", "http://corp.example.com/", "http://app.example.com/",
	"http://wiki.example.com/", "HTTP://gate.example.com/",
	// IP literals that parse differently across browsers.
	"https://0x7f.1/", "https://2130706433/", "https://127.1/", "https://0177.0.0.1/",
	"https://127.0.0.1/", "https://[::1]/", "https://[::ffff:127.0.0.1]/", "https://[::1%25eth0]/",
	"https://0x7f.0x0.0x0.0x1/", "https://10.1.2.3/", "https://10.1.2.3:9001/",
	"https://0x0a.1.2.3:9000/", "https://167838211:9000/", "https://10.1.515:9000/",
	"https://[::ffff:10.1.2.3]:9000/", "https://10.1.2.3.corp.example.com.0x1/",
	// Good host, bad path.
	`https://gate.example.com/\evil.com`, "https://gate.example.com//evil.com",
	"https://gate.example.com/%2F%2Fevil.com", "https://gate.example.com/%5Cevil.com",
	"https://gate.example.com/%09/evil", "https://gate.example.com/ /evil",
	"https://gate.example.com/..%2F..%2F", "https://gate.example.com/%2e%2e/x",
	"https://gate.example.com/\u3000/x", "https://gate.example.com/a/../b",
	// Broken encodings and sizes.
	"/\xff/evil", "https://evil.com\xff", "https://gate.example.com\xff/",
	"/" + strings.Repeat("a", maxRedirectLen),
}

func TestRedirectAttacksRefused(t *testing.T) {
	if len(redirectAttacks) < 150 {
		t.Fatalf("attack table has %d entries, want at least 150", len(redirectAttacks))
	}
	p := newTestPolicy(t, testPublicURL, testUpstreamHosts, testAllowedHosts)
	for _, rd := range redirectAttacks {
		if got, ok := p.validate(rd); ok || got != "" {
			t.Errorf("validate(%q) = %q, %v; want \"\", false", rd, got, ok)
		}
	}
}

func TestRedirectLegitimateUnchanged(t *testing.T) {
	p := newTestPolicy(t, testPublicURL, testUpstreamHosts, testAllowedHosts)
	legit := []string{
		"/",
		"/app/보고서?id=3&q=%ED%95%9C#x",
		"/app/%EB%B3%B4%EA%B3%A0%EC%84%9C",
		"/a?back=//x",
		"/search?q=a%2Fb",
		`/a?x=\y`,
		"/a#//evil.com",
		"/a?next=https://evil.com#\\x",
		"/deep/link/page.html?x=1&y=2#section-2",
		"/files/my%20report.pdf",
		"/a/b/",
		"/?x=1",
		"/#top",
		"/a;jsessionid=1",
		"/a%2Fb",
		"/.well-known/openid-configuration",
		"/javascript:alert(1)", // a path on the gateway, not a scheme
		"/legacy/%B1%E8",
		"/검색?질의=보고서 2024",
		"https://gate.example.com/x?y=1#z",
		// '_' is a host character to browsers (WHATWG URL: no STD3 rules)
		// and to hostname.Canonical, which config and routing use too.
		"https://a_b.corp.example.com/",
		"https://gate.example.com:443/x",
		"https://gate.example.com",
		"https://gate.example.com?x=1",
		"https://gate.example.com#frag",
		"HTTPS://gate.example.com/x",
		"https://wiki.example.com/page/대문",
		"https://app.internal:8443/x",
		"https://xn--9q5b29o.example.kr/x",
		"https://app.example.com/",
		"https://app.example.com:443/a",
		"https://corp.example.com/",
		"https://a.corp.example.com/x?back=//y",
		"https://a.b.corp.example.com/x",
		"https://tools.example.net:8443/",
		"https://10.1.2.3:9000/dashboard",
	}
	for _, rd := range legit {
		if got, ok := p.validate(rd); !ok || got != rd {
			t.Errorf("validate(%q) = %q, %v; want it unchanged, true", rd, got, ok)
		}
	}
}

func TestRedirectHostNormalised(t *testing.T) {
	p := newTestPolicy(t, testPublicURL, testUpstreamHosts, testAllowedHosts)
	tests := []struct{ rd, want string }{
		{"https://Gate.Example.COM/x", "https://gate.example.com/x"},
		{"https://gate.example.com./x", "https://gate.example.com/x"},
		{"https://GATE.example.com.:443/x?Q=1", "https://gate.example.com:443/x?Q=1"},
		{"https://\uff47\uff41\uff54\uff45.example.com/x", "https://gate.example.com/x"},
		{"https://gate\u3002example.com/x", "https://gate.example.com/x"},
		{"https://위키.example.kr/문서", "https://xn--9q5b29o.example.kr/문서"},
		{"https://A.Corp.Example.Com", "https://a.corp.example.com"},
	}
	for _, tt := range tests {
		if got, ok := p.validate(tt.rd); !ok || got != tt.want {
			t.Errorf("validate(%q) = %q, %v; want %q, true", tt.rd, got, ok, tt.want)
		}
	}
}

func TestRedirectHTTPGateway(t *testing.T) {
	p := newTestPolicy(t, testHTTPPublicURL, testHTTPUpstreamHosts, testHTTPAllowedHosts)
	tests := []struct {
		rd   string
		want bool
	}{
		{"/x?y=1", true},
		{"http://127.0.0.1:4180/x", true},
		{"https://127.0.0.1:4180/x", true},
		{"http://wiki.local:4180/", true},
		{"http://wiki.local/", true},
		{"http://example.com/", true},
		{"https://www.example.com/", true},
		{"http://www.example.com:8080/", false},
		{"http://127.0.0.1/", false},
		{"http://127.0.0.1:4181/", false},
		{"http://0x7f.0.0.1:4180/", false},
		{"http://2130706433:4180/", false},
		{"http://127.1:4180/", false},
		{"http://0177.0.0.1:4180/", false},
		{"http://127.000.000.001:4180/", false},
		{"http://localhost:4180/", false},
		{"http://[::1]:4180/", false},
		{"http://[::ffff:127.0.0.1]:4180/", false},
		{"http://127.0.0.1:4180.evil.com/", false},
		{"http://wiki.local.evil.com/", false},
		{"http://wiki.local:8080/", false},
		{"http://evilexample.com/", false},
		{"http://example.com.evil.com/", false},
		{"http://1.2.3.example.com.evil.com/", false},
	}
	for _, tt := range tests {
		if _, ok := p.validate(tt.rd); ok != tt.want {
			t.Errorf("validate(%q) ok = %v, want %v", tt.rd, ok, tt.want)
		}
	}
}

func TestNewRedirectPolicyErrors(t *testing.T) {
	good := mustParse(t, testPublicURL)
	tests := []struct {
		name      string
		public    *url.URL
		upstreams []string
		allowed   []string
	}{
		{"nil public url", nil, nil, nil},
		{"ftp public url", mustParse(t, "ftp://gate.example.com"), nil, nil},
		{"public url without host", mustParse(t, "https:///x"), nil, nil},
		{"empty allowed host", good, nil, []string{""}},
		{"lone dot", good, nil, []string{"."}},
		{"space", good, nil, []string{"a b.com"}},
		{"scheme", good, nil, []string{"https://x.com"}},
		{"path", good, nil, []string{"x.com/path"}},
		{"port zero", good, nil, []string{"x.com:0"}},
		{"port too big", good, nil, []string{"x.com:99999"}},
		{"empty port", good, nil, []string{"x.com:"}},
		{"wildcard", good, nil, []string{"*.x.com"}},
		{"user-info", good, nil, []string{"user@x.com"}},
		{"open bracket", good, nil, []string{"[::1"}},
		{"empty label", good, nil, []string{"x..com"}},
		{"bad upstream", good, []string{"wiki example"}, nil},
	}
	for _, tt := range tests {
		p, err := newRedirectPolicy(tt.public, tt.upstreams, tt.allowed)
		if err == nil || p != nil {
			t.Errorf("%s: newRedirectPolicy = %v, %v; want nil, error", tt.name, p, err)
		}
	}
	_, err := newRedirectPolicy(good, nil, []string{"x y"})
	if !errors.Is(err, errRedirectHost) {
		t.Errorf("bad allowed host: got %v, want errRedirectHost", err)
	}
}
