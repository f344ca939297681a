package proxy

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/session"
)

// The benchmarks here cover the per-request hot path: header rewrite, route
// match, and a whole authenticated request through Server.ServeHTTP. Run
// with `go test -run '^$' -bench . -benchmem ./proxy/`.

// benchBrowserHeader is what a browser typically sends to an app behind the
// gateway: the session cookie among the app's own cookies.
func benchBrowserHeader(sessionCookie string) http.Header {
	return http.Header{
		"Accept":          {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		"Accept-Encoding": {"gzip, deflate, br"},
		"Accept-Language": {"ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7"},
		"User-Agent":      {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"},
		"Cookie":          {"JSESSIONID=0123456789ABCDEF; " + sessionCookie + "; theme=dark"},
		"Referer":         {"https://gate.example.com/app/"},
	}
}

func benchCookies(b *testing.B) *session.Cookies {
	b.Helper()
	c, err := session.NewCookies(session.CookieOptions{Secret: []byte(strings.Repeat("k", 32))})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkHeaderRewrite is the header work of one proxied request: strip
// client identity headers and gateway cookies, set ours (Hangul name).
func BenchmarkHeaderRewrite(b *testing.B) {
	c := benchCookies(b)
	in := benchBrowserHeader("_socialgate=MTcxNjIzOTAyMnxabcdefghijklmnopqrstuvwxyz")
	id := identity{User: "kakao:3456789012", Email: "hong@example.kr", EmailVerified: true,
		Name: "홍길동", Provider: "kakao"}
	h := make(http.Header, 16)
	hs, err := newHeaderStripper(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		clear(h)
		for k, v := range in {
			h[k] = v
		}
		hs.strip(h)
		stripGatewayCookies(h, c.IsGatewayCookie)
		setIdentityHeaders(h, id, encPercent, false)
	}
}

// BenchmarkRouteMatch matches a request against a handful of routes, the
// longest prefix on a host.
func BenchmarkRouteMatch(b *testing.B) {
	u := &url.URL{Scheme: "http", Host: "127.0.0.1:9"}
	p, err := newPolicy([]Route{
		{Name: "root", Path: "/", URL: u},
		{Name: "app", Path: "/app/", URL: u},
		{Name: "reports", Path: "/app/보고서/", URL: u},
		{Name: "wiki", Host: "wiki.example.com", Path: "/", URL: u},
		{Name: "public", Path: "/public/", URL: u, Public: true},
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct{ host, path, want string }{
		{"gate.example.com", "/app/보고서/2024", "reports"},
		{"wiki.example.com:443", "/page", "wiki"},
		{"gate.example.com", "/index.html", "root"},
	}
	for _, c := range cases {
		if got := p.match(c.host, c.path); got == nil || got.Name != c.want {
			b.Fatalf("match(%q, %q) = %v, want %s", c.host, c.path, got, c.want)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := cases[i%len(cases)]
		p.match(c.host, c.path)
	}
}

// benchTransport answers every upstream request at once, in process, so the
// benchmark measures the gateway and not the network.
type benchTransport struct{ bare bool }

func (t benchTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !t.bare && r.Header.Get("X-Forwarded-User") == "" {
		return nil, io.ErrUnexpectedEOF // the benchmark fails: no identity sent
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"2"}},
		Body:          io.NopCloser(strings.NewReader("ok")),
		ContentLength: 2,
		Request:       r,
	}, nil
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }

// newBenchServer is a Server with the memory store, one route to an
// in-process upstream, and a signed-in session; it returns the request
// that carries the session cookie.
func newBenchServer(b *testing.B) (*Server, *http.Request) {
	b.Helper()
	return newBenchServerWith(b, nil)
}

// newBenchServerWith is newBenchServer with a last word on the options.
func newBenchServerWith(b *testing.B, edit func(*Options)) (*Server, *http.Request) {
	b.Helper()
	store := session.NewMemory(session.MemoryOptions{})
	b.Cleanup(func() { store.Close() })
	mgr, err := session.NewManager(session.ManagerOptions{Store: store})
	if err != nil {
		b.Fatal(err)
	}
	cookies := benchCookies(b)
	prov, err := providers.New(providers.Options{Name: "kakao", ClientID: "bench",
		RedirectURL: "http://gate.example.com/oauth2/callback/kakao"})
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{
		PublicURL: "http://gate.example.com",
		Providers: []Provider{prov},
		Sessions:  mgr,
		Cookies:   cookies,
		Routes:    []Route{{Name: "app", Path: "/", URL: &url.URL{Scheme: "http", Host: "127.0.0.1:9"}}},
		Logger:    slog.New(slog.DiscardHandler),
		Transport: benchTransport{},
	}
	if edit != nil {
		edit(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	sess, err := mgr.Create(context.Background(), &session.Session{Provider: "kakao", Subject: "3456789012",
		Email: "hong@example.kr", EmailVerified: true, Name: "홍길동",
		AccessToken: strings.Repeat("a", 54), RefreshToken: strings.Repeat("r", 54),
		TokenExpiry: time.Now().Add(6 * time.Hour)}, "")
	if err != nil {
		b.Fatal(err)
	}
	w := &discardWriter{h: http.Header{}}
	cookies.WriteSession(w, sess.ID)
	ck, err := http.ParseSetCookie(w.h.Get("Set-Cookie"))
	if err != nil {
		b.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, "http://gate.example.com/app/보고서?id=3", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header = benchBrowserHeader(ck.Name + "=" + ck.Value)
	req.RemoteAddr = "127.0.0.1:50000"
	req.RequestURI = req.URL.RequestURI()
	return srv, req
}

// BenchmarkServeHTTP is one whole authenticated GET through the gateway
// with the memory store (cookie, session, route, policy, rewrite, proxy),
// next to a bare httputil.ReverseProxy with the same transport and buffer
// pool: the difference is what socialgate adds.
func BenchmarkServeHTTP(b *testing.B) {
	srv, req := newBenchServer(b)
	up := &url.URL{Scheme: "http", Host: "127.0.0.1:9"}
	bare := &httputil.ReverseProxy{
		Transport:  benchTransport{bare: true},
		BufferPool: &bufferPool{},
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up)
			pr.SetXForwarded()
		},
	}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"socialgate", srv}, {"bare", bare}} {
		b.Run(bc.name, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.status = 0
				bc.h.ServeHTTP(w, req)
			}
			if w.status != http.StatusOK {
				b.Fatalf("status %d, want 200", w.status)
			}
		})
	}
}
