package proxy_test

import (
	"bufio"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/proxy"
)

// upstreamSpy is a Transport that answers every upstream request itself
// (no network, so fuzzing is fast) and remembers them.
type upstreamSpy struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (s *upstreamSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, r)
	s.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

func (s *upstreamSpy) take() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reqs
	s.reqs = nil
	return r
}

// newFuzzGateway is the attack gateway with upstreamSpy as its transport
// and a discarded log (fuzzing would fill memory with it).
func newFuzzGateway(f *testing.F) (*attackGateway, *upstreamSpy) {
	spy := &upstreamSpy{}
	a := newAttackGateway(f, gatewayConfig{options: func(o *proxy.Options) {
		o.Transport = spy
		o.Logger = slog.New(slog.DiscardHandler)
	}})
	return a, spy
}

// serveRaw parses raw as the server would and serves it in process; ok is
// false when the request does not parse (the server would answer 400).
func serveRaw(h http.Handler, raw string) (rec *httptest.ResponseRecorder, ok bool) {
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		return nil, false
	}
	req.RemoteAddr = "127.0.0.1:40000"
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec, true
}

// FuzzGatewayRequest sends arbitrary request-targets, cookies and one
// extra header through the whole gateway, signed out. Whatever comes in:
// no 500 and no panic, the protected upstream is never reached, the public
// upstream never gets an identity header nor a path it could read as
// outside /public, and any redirect stays on an allowed host.
func FuzzGatewayRequest(f *testing.F) {
	for _, p := range pathPayloads {
		f.Add(p, "", "X-Forwarded-User", "admin")
	}
	for _, l := range spoofLines {
		k, v, _ := strings.Cut(l, ":")
		f.Add("/public/x", "_socialgate=x", k, strings.TrimSpace(v))
	}
	for _, rd := range redirectPayloads[:40] {
		f.Add("/oauth2/sign_in?rd="+url.QueryEscape(rd), "", "Accept", "text/html")
	}
	f.Add("/oauth2/callback/kakao?code=x&state=y", "_socialgate_login=abc", "Accept", "text/html")
	f.Add("/oauth2/auth", "_socialgate=%%%; _socialgate=", "X-Forwarded-Uri", "/private/%zz")
	f.Add("/oauth2/start/kakao?rd=//evil.example", "", "Accept", "text/html")
	a, spy := newFuzzGateway(f)
	_, privPort, _ := strings.Cut(a.private.srv.Listener.Addr().String(), ":")
	f.Fuzz(func(t *testing.T, target, cookie, name, value string) {
		raw := "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + cookie + "\r\n" + name + ": " + value + "\r\n\r\n"
		rec, ok := serveRaw(a.srv, raw)
		if !ok {
			return
		}
		if rec.Code >= 500 {
			t.Fatalf("%q: status %d", raw, rec.Code)
		}
		if loc := rec.Header().Get("Location"); loc != "" && !a.redirectAllowed(loc) && !a.toProvider(loc) {
			t.Fatalf("%q: redirect to %q", raw, loc)
		}
		for _, r := range spy.take() {
			if r.URL.Port() == privPort {
				t.Fatalf("%q reached the protected upstream as %q", raw, r.URL.RequestURI())
			}
			for k := range r.Header {
				if identityName(k) {
					t.Fatalf("%q: the public upstream got %s", raw, k)
				}
			}
			p := r.URL.Path
			if d, err := url.PathUnescape(p); err == nil {
				p = d
			}
			p = path.Clean(p)
			if p != "/public" && !strings.HasPrefix(p, "/public/") && !strings.HasPrefix(p, "/public;") {
				t.Fatalf("%q reached the public upstream as %q", raw, r.URL.EscapedPath())
			}
		}
	})
}

// toProvider reports whether loc goes to one of the fake providers (the
// start endpoint's redirect).
func (a *attackGateway) toProvider(loc string) bool {
	for _, f := range a.fakes {
		if strings.HasPrefix(loc, f.URL()+"/") {
			return true
		}
	}
	return false
}

// FuzzGatewayRedirect: whatever rd the sign-in page, the sign-out form or
// the sign-out confirm page is given, what the browser is sent to (a
// link's rd, a Location, the confirm page's hidden field and cancel link)
// lands on an allowed host as a browser reads it.
func FuzzGatewayRedirect(f *testing.F) {
	for _, rd := range redirectPayloads {
		f.Add(rd)
	}
	for _, rd := range legitRedirects {
		f.Add(rd)
	}
	a, _ := newFuzzGateway(f)
	b := newBrowser(f)
	a.fakes["kakao"].AutoApprove(providertest.DefaultUsers("kakao")[0].ID)
	if resp, _ := b.get(a.URL + "/oauth2/start/kakao?rd=/private/"); resp.StatusCode != http.StatusOK {
		f.Fatalf("login: status %d", resp.StatusCode)
	}
	gu, _ := url.Parse(a.URL)
	var cookie string
	for _, c := range b.c.Jar.Cookies(gu) {
		if c.Name == a.cookies.SessionName() {
			cookie = c.Name + "=" + c.Value
		}
	}
	rdField := regexp.MustCompile(`name="rd" value="([^"]*)"`)
	cancel := regexp.MustCompile(`class="btn btn-plain" href="([^"]*)"`)
	f.Fuzz(func(t *testing.T, rd string) {
		q := url.Values{"rd": {rd}}.Encode()
		check := func(where, target string) {
			if !a.redirectAllowed(target) {
				t.Fatalf("rd %q: %s sends the browser to %q", rd, where, target)
			}
		}
		rec := httptest.NewRecorder()
		a.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/oauth2/sign_in?"+q, nil))
		for _, m := range startHrefRE.FindAllStringSubmatch(rec.Body.String(), -1) {
			u, err := url.Parse(html.UnescapeString(m[1]))
			if err != nil {
				t.Fatalf("rd %q: unparsable link %q", rd, m[1])
			}
			check("a sign-in link", u.Query().Get("rd"))
		}
		req := httptest.NewRequest(http.MethodPost, "/oauth2/sign_out", strings.NewReader(q))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec = httptest.NewRecorder()
		a.srv.ServeHTTP(rec, req)
		check("sign-out", rec.Header().Get("Location"))
		req = httptest.NewRequest(http.MethodGet, "/oauth2/sign_out?"+q, nil)
		req.Header.Set("Cookie", cookie)
		rec = httptest.NewRecorder()
		a.srv.ServeHTTP(rec, req)
		for _, re := range []*regexp.Regexp{rdField, cancel} {
			m := re.FindStringSubmatch(rec.Body.String())
			if m == nil {
				t.Fatalf("rd %q: the confirm page lacks %s", rd, re)
			}
			check("the confirm page", html.UnescapeString(m[1]))
		}
	})
}

// FuzzGatewayCookie sends arbitrary Cookie headers, seeded with mutations
// of a real session and login cookie, to every endpoint that reads them.
// No 500, and signed in only when the header carries the real session
// cookie byte for byte.
func FuzzGatewayCookie(f *testing.F) {
	a, _ := newFuzzGateway(f)
	b := newBrowser(f)
	a.fakes["kakao"].AutoApprove(providertest.DefaultUsers("kakao")[0].ID)
	if resp, _ := b.get(a.URL + "/oauth2/start/kakao?rd=/private/"); resp.StatusCode != http.StatusOK {
		f.Fatalf("login: status %d", resp.StatusCode)
	}
	start := b.do(http.MethodGet, a.URL+"/oauth2/start/google?rd=/x", nil) // a pending login cookie too
	start.Body.Close()
	gu, _ := url.Parse(a.URL)
	var good string
	for _, c := range b.c.Jar.Cookies(gu) {
		f.Add(c.Name + "=" + c.Value)
		f.Add(c.Name + "=" + c.Value[:len(c.Value)/2])
		f.Add(c.Name + "=" + c.Value + "A")
		f.Add(strings.Repeat(c.Name+"=x; ", 9) + c.Name + "=" + c.Value)
		if c.Name == a.cookies.SessionName() {
			good = c.Value
		}
	}
	f.Add("_socialgate=; _socialgate_login=%%%")
	f.Add("_socialgate=" + strings.Repeat("A", 5000))
	probes := []struct{ method, target string }{
		{http.MethodGet, "/private/x"}, {http.MethodGet, "/oauth2/userinfo"}, {http.MethodGet, "/oauth2/auth"},
		{http.MethodGet, "/oauth2/callback/google?code=x&state=y"}, {http.MethodGet, "/oauth2/sign_out"},
		{http.MethodPost, "/oauth2/sign_out"}, {http.MethodGet, "/public/x"},
	}
	f.Fuzz(func(t *testing.T, cookie string) {
		for _, p := range probes {
			req := httptest.NewRequest(p.method, p.target, nil)
			req.Header.Set("Cookie", cookie)
			req.Header.Set("Accept", "application/json")
			rec := httptest.NewRecorder()
			a.srv.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("cookie %q: %s %s: status %d", cookie, p.method, p.target, rec.Code)
			}
			signedIn := p.target == "/oauth2/userinfo" && rec.Code == http.StatusOK
			if signedIn && !strings.Contains(cookie, good) {
				t.Fatalf("cookie %q signs in without the real session cookie", cookie)
			}
		}
	})
}
