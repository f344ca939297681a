package proxy_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/socialgate/socialgate/providers/providertest"
)

// redirectPayloads are open-redirect attempts against the attack gateway,
// {gw} standing for its host:port. Some are harmless and accepted (a
// path on the gateway, an allowed host in disguise); the tests only ask
// that whatever is accepted lands on an allowed host. The unit tables in
// redirect_test.go hold more, against the policy alone.
var redirectPayloads = []string{
	// Other hosts, and the gateway's host used as bait.
	"http://evil.example/", "https://evil.example/", "http://evil.example:{port}/",
	"http://127.0.0.2:{port}/", "http://localhost:{port}/", "http://[::1]:{port}/",
	"http://0.0.0.0:{port}/", "http://{gw}.evil.example/", "http://127.0.0.1.evil.example:{port}/",
	"http://{gw}@evil.example/", "http://evil.example#@{gw}/", "http://evil.example?@{gw}/",
	`http://evil.example\@{gw}/`, `http://{gw}\@evil.example/`, "http://{gw}%2F@evil.example/",
	"http://{gw}%40evil.example/", "http://{gw}%23@evil.example/", "http://127.0.0.1%3A{port}@evil.example/",
	"http://user:pass@{gw}/", "http://:@{gw}/", "http://{gw}:80/", "http://127.0.0.1:0{port}/",
	"http://{gw}/%2F%2Fevil.example", "http://{gw}//evil.example/", `http://{gw}/\evil.example`,
	"http://{gw}/..//evil.example", "http://2130706433:{port}/", "http://0x7f000001:{port}/",
	"http://0177.0.0.1:{port}/", "http://127.0.1:{port}/", "http://127.000.000.001:{port}/",
	"http://[::ffff:7f00:1]:{port}/", "http://[0:0:0:0:0:ffff:127.0.0.1]:{port}/",
	"http://①②⑦.0.0.1:{port}/", "http://１２７.０.０.１:{port}/", "http://127。0。0。1:{port}/",
	// Allowed hosts in disguise: suffixes, look-alikes, ports.
	"https://app.example.com.evil.example/", "https://evil-app.example.com/", "https://app.example.com:8443/",
	"https://app.example.com:443@evil.example/", "https://evil.example/.corp.example.com",
	"https://evil.example?.corp.example.com", "https://corp.example.com.evil.example/",
	"https://xcorp.example.com/", "https://evilcorp.example.com/", "https://a.corp.example.com:8080/",
	"https://a.corp.example.com.evil.example/", "https://a.corp.example.com%2F.evil.example/",
	"https://a.corp.example.com%00.evil.example/", "https://a.corp.example.com\x00.evil.example/",
	"https://a.corp.example.com\u3002evil.example/", "https://evil.example\uff0ecorp.example.com/",
	"https://wiki.example.com.evil.example/", "https://wiki.example.com:8080/", "https://wiki.example.com:{port}/",
	"https://wik\u0456.example.com/", "https://\u051diki.example.com/", "https://wiki.exampIe.com/",
	"https://wiki.example.co/", "https://wiki.example.com%E3%80%82evil.example/", "https://xn--wiki-.example.com/",
	"https://WIKI.EXAMPLE.COM./", "https://example.com/", "https://app.example.com.:443/",
	// Other schemes, and http(s) misspelt the ways browsers forgive.
	"javascript:alert(document.domain)", "javascript:/*http://{gw}*/alert(1)", "JAVASCRIPT:alert(1)",
	"jav&#x09;ascript:alert(1)", "\x01javascript:alert(1)", " javascript:alert(1)",
	"javascript&colon;alert(1)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
	"vbscript:msgbox(1)", "file://127.0.0.1/etc/passwd", "ftp://evil.example/", "gopher://evil.example/",
	"ws://{gw}/", "wss://evil.example/", "chrome://settings", "about:blank", "view-source:http://evil.example",
	"blob:http://{gw}/x", "filesystem:http://evil.example/temporary/x", "jar:http://evil.example!/",
	"intent://evil.example#Intent;scheme=http;end", "naversearchapp://inappbrowser?url=https%3A%2F%2Fevil.example",
	"kakaotalk://inappbrowser?url=https://evil.example", "market://details?id=evil", "tel:+821012345678",
	"sms:+8210?body=http://evil.example", "http:evil.example", "http:/evil.example", "http:///evil.example",
	`http:\\evil.example`, `http:/\evil.example`, `https:\/evil.example`, `http://\evil.example`,
	"http:%2f%2fevil.example", "hTtP://evil.example", "http ://evil.example", "http\t://evil.example",
	"ht\ntp://evil.example", "http://\tevil.example", "http://evil.example\t/",
	// Paths a browser reads as another host.
	"//evil.example", "///evil.example", `/\evil.example`, `\/evil.example`, `\\evil.example`,
	"/\t/evil.example", "/\r\n/evil.example", "/ /evil.example", "/%09/evil.example", "/%2f%2fevil.example",
	"/%5c%5cevil.example", "/%5C/evil.example", "/%2F/evil.example", "/%252f%252fevil.example",
	"/%25%32%66%25%32%66evil.example", "/.%2e/%2fevil.example", "/..//evil.example", `/../\evil.example`,
	`/./\evil.example`, `/a/../\evil.example`, "/a/..//evil.example", "/;/evil.example", "/.;/evil.example",
	"/..;/evil.example", "/%2e;/evil.example", "/\u3000/evil.example", "/\uff0f\uff0fevil.example",
	"/\uff3cevil.example", "/%ef%bc%8f%ef%bc%8fevil.example", "/\u2216evil.example", "/\u29f5evil.example",
	"/\u200d/evil.example", "/\u00ad/evil.example", "/\u034f/evil.example", "/\ufe0f/evil.example",
	"/\u2060/evil.example",
	// Fragments and queries: kept as they came, never rewritten on the way
	// out (http.Redirect used to path.Clean "/a#/../\evil" into "/\evil").
	`/a#/../\evil.example`, `/a#/..\/evil.example`, `/#/../\evil.example`, `/x#\evil.example`,
	"/x#/../../..//evil.example", "/x#//evil.example", `/x?#/../\evil.example`, `/x#?/../\evil.example`,
	"/x#%2F..%2F%5Cevil.example", `/x/#/../\evil.example`, `http://{gw}#/../\evil.example`,
	`http://{gw}/a#/../\evil.example`, "/a?next=//evil.example", "/a?x=%0d%0aLocation:%20http://evil.example",
	"/a?x=\r\nLocation: http://evil.example", "/a%0d%0aSet-Cookie:%20sg=1", "/a\r\nSet-Cookie: sg=1",
	"/a\u2028Set-Cookie: sg=1", "/a\u0085Location: //evil.example",
	// Encodings, broken bytes and sizes.
	"%2F%2Fevil.example", "%2f%5cevil.example", "http%3A%2F%2Fevil.example", "/\xc0\xaf/evil.example",
	"/%c0%af%c0%afevil.example", "/%e0%80%af/evil.example", "/" + strings.Repeat("a", 9000),
	"http://evil.example/" + strings.Repeat("a", 100), "/%", "/%g0", "\x00/evil", "／／evil.example",
	"〱evil.example", "//{gw}/x",
}

// attackRedirects returns the payloads for gateway a.
func (a *attackGateway) attackRedirects() []string {
	_, port, _ := strings.Cut(a.addr, ":")
	r := strings.NewReplacer("{gw}", a.addr, "{port}", port)
	out := make([]string, len(redirectPayloads))
	for i, p := range redirectPayloads {
		out[i] = r.Replace(p)
	}
	return out
}

// legitRedirects must land exactly where they say (non-ASCII sent
// percent-encoded in Location, as browsers send it anyway).
var legitRedirects = []string{
	"/app/보고서?id=3&q=%ED%95%9C#x",
	"/app/%EB%B3%B4%EA%B3%A0%EC%84%9C?id=3&q=%ED%95%9C#x",
	"/private/a?back=//x",
	"/private/search?q=a%2Fb",
	"/files/my%20report.pdf",
	"/검색?질의=보고서 2024",
	"/a#/../b",
	"http://{gw}/private/x?y=1#z",
	"http://wiki.example.com/page/대문",
	"https://app.example.com/a?b=c",
	"https://a.corp.example.com/x#frag",
}

// wantLocation is how rd must appear in Location: bytes >= 0x80 escaped.
func wantLocation(rd string) string {
	var b strings.Builder
	for i := 0; i < len(rd); i++ {
		if c := rd[i]; c >= 0x80 {
			b.WriteString("%" + strings.ToUpper(hexByte(c)))
			continue
		}
		b.WriteByte(rd[i])
	}
	return b.String()
}

func hexByte(c byte) string {
	const hex = "0123456789abcdef"
	return string([]byte{hex[c>>4], hex[c&15]})
}

func TestAttackRedirectTableSize(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range redirectPayloads {
		if seen[p] {
			t.Errorf("duplicate payload %q", p)
		}
		seen[p] = true
	}
	if len(seen) < 150 {
		t.Errorf("got %d distinct payloads, want at least 150", len(seen))
	}
}

var startHrefRE = regexp.MustCompile(`href="(/oauth2/(?:start/[a-z]+|sign_in)\?[^"]*)"`)

// TestAttackRedirectSignIn: the rd the sign-in page passes on (buttons and
// language links) always lands on an allowed host.
func TestAttackRedirectSignIn(t *testing.T) {
	a := newAttackGateway(t, gatewayConfig{})
	b := newBrowser(t)
	for _, rd := range append(a.attackRedirects(), legitTargets(a)...) {
		resp := b.do(http.MethodGet, a.URL+"/oauth2/sign_in?"+url.Values{"rd": {rd}}.Encode(), nil)
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("sign_in rd=%.60q: status %d, want 200", rd, resp.StatusCode)
			continue
		}
		links := startHrefRE.FindAllStringSubmatch(body, -1)
		if len(links) != 5 {
			t.Fatalf("sign_in rd=%.60q: %d links, want 3 buttons and 2 languages", rd, len(links))
		}
		for _, m := range links {
			u, err := url.Parse(html.UnescapeString(m[1]))
			if err != nil {
				t.Fatalf("unparsable link %q: %v", m[1], err)
			}
			if got := u.Query().Get("rd"); !a.redirectAllowed(got) {
				t.Errorf("sign_in rd=%.60q: link carries rd %q, which leaves the allowed hosts", rd, got)
			}
		}
	}
}

// legitTargets returns legitRedirects for gateway a.
func legitTargets(a *attackGateway) []string {
	out := make([]string, len(legitRedirects))
	for i, rd := range legitRedirects {
		out[i] = strings.ReplaceAll(rd, "{gw}", a.addr)
	}
	return out
}

// loginWithRd runs start → provider → callback for rd and returns the
// callback's response.
func (a *attackGateway) loginWithRd(t *testing.T, b *browser, rd string) *http.Response {
	t.Helper()
	resp := b.do(http.MethodGet, a.URL+"/oauth2/start/kakao?"+url.Values{"rd": {rd}}.Encode(), nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("start rd=%.60q: status %d", rd, resp.StatusCode)
	}
	resp = b.do(http.MethodGet, resp.Header.Get("Location"), nil)
	resp.Body.Close()
	cb := b.do(http.MethodGet, resp.Header.Get("Location"), nil)
	cb.Body.Close()
	return cb
}

// TestAttackRedirectAfterLogin: start remembers the rd server-side; after
// a full login the browser lands on an allowed host, and a refused rd
// lands on "/". No payload splits the response's headers.
func TestAttackRedirectAfterLogin(t *testing.T) {
	a := newAttackGateway(t, gatewayConfig{})
	a.fakes["kakao"].AutoApprove(providertest.DefaultUsers("kakao")[0].ID)
	b := newBrowser(t)
	for _, rd := range a.attackRedirects() {
		cb := a.loginWithRd(t, b, rd)
		loc := cb.Header.Get("Location")
		if cb.StatusCode != http.StatusFound {
			t.Fatalf("callback for rd=%.60q: status %d", rd, cb.StatusCode)
		}
		if !a.redirectAllowed(loc) {
			t.Errorf("rd=%.60q: landed on %q, which leaves the allowed hosts", rd, loc)
		}
		if !a.redirectAllowed(rd) && loc != "/" {
			t.Errorf("rd=%.60q: landed on %q, want the fallback /", rd, loc)
		}
		for _, c := range cb.Header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "sg=") {
				t.Errorf("rd=%.60q: injected a cookie %q", rd, c)
			}
		}
	}
}

// TestAttackRedirectLegitimateLandsExactly: deep links with Hangul,
// escapes, queries and fragments survive the whole login byte for byte.
func TestAttackRedirectLegitimateLandsExactly(t *testing.T) {
	a := newAttackGateway(t, gatewayConfig{})
	a.fakes["kakao"].AutoApprove(providertest.DefaultUsers("kakao")[0].ID)
	b := newBrowser(t)
	for _, rd := range legitTargets(a) {
		cb := a.loginWithRd(t, b, rd)
		if got, want := cb.Header.Get("Location"), wantLocation(rd); got != want {
			t.Errorf("rd=%q: landed on %q, want %q", rd, got, want)
		}
	}
}

// TestAttackRedirectCallbackIgnoresForgedRd: nothing that comes back
// through the provider round trip can choose the landing URL.
func TestAttackRedirectCallbackIgnoresForgedRd(t *testing.T) {
	a := newAttackGateway(t, gatewayConfig{})
	b := newBrowser(t)
	cb := a.callbackURL(b, "google", providertest.DefaultUsers("google")[0].ID, "/private/remembered")
	forged := cb + "&" + url.Values{
		"rd": {"https://evil.example/"}, "redirect_uri": {"https://evil.example/"},
		"next": {"//evil.example"}, "return_to": {"https://evil.example/"}, "redirect": {"//evil.example"},
	}.Encode()
	resp := b.do(http.MethodGet, forged, nil)
	resp.Body.Close()
	if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || got != "/private/remembered" {
		t.Errorf("callback with forged rd: %d → %q, want 302 → /private/remembered", resp.StatusCode, got)
	}
}

// TestAttackRedirectSignOut: the rd of POST /oauth2/sign_out (signed out,
// so no CSRF token is needed) and of the confirm page (signed in: its
// hidden field and its cancel link) lands on an allowed host.
func TestAttackRedirectSignOut(t *testing.T) {
	a := newAttackGateway(t, gatewayConfig{})
	anon := newBrowser(t)
	signedIn, _ := a.signIn(t, "kakao", providertest.DefaultUsers("kakao")[0].ID)
	rdField := regexp.MustCompile(`name="rd" value="([^"]*)"`)
	cancel := regexp.MustCompile(`class="btn btn-plain" href="([^"]*)"`)
	for _, rd := range append(a.attackRedirects(), legitTargets(a)...) {
		resp := anon.do(http.MethodPost, a.URL+"/oauth2/sign_out", strings.NewReader(url.Values{"rd": {rd}}.Encode()))
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || !a.redirectAllowed(loc) {
			t.Errorf("POST sign_out rd=%.60q: %d → %q, want 302 to an allowed host", rd, resp.StatusCode, loc)
		}
		page := signedIn.do(http.MethodGet, a.URL+"/oauth2/sign_out?"+url.Values{"rd": {rd}}.Encode(), nil)
		body := readAll(t, page)
		f, c := rdField.FindStringSubmatch(body), cancel.FindStringSubmatch(body)
		if f == nil || c == nil {
			t.Fatalf("confirm page for rd=%.60q lacks the rd field or the cancel link", rd)
		}
		for _, v := range []string{f[1], c[1]} {
			if v := html.UnescapeString(v); !a.redirectAllowed(v) {
				t.Errorf("confirm page rd=%.60q: carries %q, which leaves the allowed hosts", rd, v)
			}
		}
	}
}
