package proxy

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// FuzzRedirect and its oracles: how a browser and net/url read an accepted target.

func FuzzRedirect(f *testing.F) {
	for _, s := range redirectAttacks {
		f.Add(s)
	}
	f.Add("/app/보고서?id=3&q=%ED%95%9C#x")
	f.Add("https://a.corp.example.com/x?back=//y")
	f.Add("http://wiki.local:4180/x")
	policies := []struct {
		public *url.URL
		p      *redirectPolicy
		ok     func(scheme, host, port string) bool
	}{
		{mustParse(f, testPublicURL), newTestPolicy(f, testPublicURL, testUpstreamHosts, testAllowedHosts), httpsOracle},
		{mustParse(f, testHTTPPublicURL), newTestPolicy(f, testHTTPPublicURL, testHTTPUpstreamHosts, testHTTPAllowedHosts), httpOracle},
	}
	f.Fuzz(func(t *testing.T, rd string) {
		for _, pol := range policies {
			got, ok := pol.p.validate(rd)
			if !ok {
				if got != "" {
					t.Fatalf("validate(%q) refused but returned %q", rd, got)
				}
				continue
			}
			checkRedirectTarget(t, rd, got, pol.public, pol.ok)
		}
	})
}

// checkRedirectTarget checks an accepted target twice: as net/url resolves
// it against public_url, and as a lenient browser reads it.
func checkRedirectTarget(t *testing.T, rd, got string, public *url.URL, allowed func(scheme, host, port string) bool) {
	t.Helper()
	if strings.HasPrefix(got, "/") && len(got) > 1 && (got[1] == '/' || got[1] == '\\') {
		t.Fatalf("validate(%q) = %q: relative target with a second slash", rd, got)
	}
	before := got[:pathEnd(got)]
	if strings.ContainsRune(before, '\\') {
		t.Fatalf("validate(%q) = %q: backslash before the query", rd, got)
	}
	for _, r := range got {
		if r < 0x20 || r == 0x7f {
			t.Fatalf("validate(%q) = %q: control character", rd, got)
		}
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatalf("validate(%q) = %q, which net/url refuses: %v", rd, got, err)
	}
	res := public.ResolveReference(u)
	if res.User != nil || !allowed(res.Scheme, res.Hostname(), res.Port()) {
		t.Fatalf("validate(%q) = %q resolves to host %q (user %v), not allowed", rd, got, res.Host, res.User)
	}
	scheme, host, port, ok := browserAuthority(got)
	if !ok {
		return // relative to the gateway, as checked above
	}
	if !allowed(scheme, host, port) {
		t.Fatalf("validate(%q) = %q: a browser goes to %q port %q, not allowed", rd, got, host, port)
	}
}

// browserAuthority reads s the way the URL standard does for the special
// schemes: tabs and newlines dropped, '\' as '/', any number of slashes
// after the scheme, user-info up to the last '@'. ok is false for a target
// without an authority (relative to the current host).
func browserAuthority(s string) (scheme, host, port string, ok bool) {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		if r == '\\' {
			return '/'
		}
		return r
	}, strings.Trim(s, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
	if strings.HasPrefix(s, "//") {
		host, port, ok = authorityHost(strings.TrimLeft(s, "/"))
		return "https", host, port, ok
	}
	if strings.HasPrefix(s, "/") {
		return "", "", "", false
	}
	i := strings.IndexByte(s, ':')
	if i < 0 {
		return "", "", "", false
	}
	scheme = strings.ToLower(s[:i])
	host, port, ok = authorityHost(strings.TrimLeft(s[i+1:], "/"))
	return scheme, host, port, ok
}

func authorityHost(s string) (host, port string, ok bool) {
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 && !strings.HasSuffix(s, "]") {
		s, port = s[:i], s[i+1:]
	}
	if d, err := url.PathUnescape(s); err == nil {
		s = d
	}
	return s, port, true
}

// httpsOracle restates the https test policy independently of the code
// under test.
func httpsOracle(scheme, host, port string) bool {
	if strings.ToLower(scheme) != "https" {
		return false
	}
	h, ok := oracleHost(host)
	if !ok {
		return false
	}
	if port == "" {
		port = "443"
	}
	switch {
	case h == "gate.example.com" && port == "443",
		h == "wiki.example.com" && port == "443",
		h == "xn--9q5b29o.example.kr" && port == "443",
		h == "app.internal" && port == "8443",
		h == "app.example.com" && port == "443",
		(h == "corp.example.com" || strings.HasSuffix(h, ".corp.example.com")) && port == "443",
		h == "tools.example.net" && port == "8443",
		h == "10.1.2.3" && port == "9000":
		return true
	}
	return false
}

// httpOracle restates the http test policy.
func httpOracle(scheme, host, port string) bool {
	scheme = strings.ToLower(scheme)
	def := map[string]string{"http": "80", "https": "443"}[scheme]
	if def == "" {
		return false
	}
	h, ok := oracleHost(host)
	if !ok {
		return false
	}
	if port == "" {
		port = def
	}
	switch {
	case h == "127.0.0.1" && port == "4180",
		h == "wiki.local" && (port == def || port == "4180"),
		(h == "example.com" || strings.HasSuffix(h, ".example.com")) && port == def:
		return true
	}
	return false
}

func oracleHost(host string) (string, bool) {
	if !utf8.ValidString(host) {
		return "", false
	}
	// WHATWG URL's domain to ASCII: UTS #46 without STD3 rules, so '_'
	// is allowed, as browsers do.
	h, err := idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(false)).ToASCII(host)
	if err != nil {
		return "", false
	}
	return strings.TrimSuffix(strings.ToLower(h), "."), true
}
