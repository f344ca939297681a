package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/socialgate/socialgate/bearer"
	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/proxy"
	"github.com/socialgate/socialgate/session"
)

// secretEnv carries the cookie secret from the parent to the targets, so
// that it is not on a command line.
const secretEnv = "SOCIALGATE_BENCH_SECRET"

// upstreamBody is what the tiny upstream answers: a small page.
var upstreamBody = []byte("<!doctype html><title>app</title><p>hello from the upstream app</p>\n")

// runUpstream serves the tiny upstream app until stdin closes.
func runUpstream(ctx context.Context, _ []string) error {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(upstreamBody)))
		_, _ = w.Write(upstreamBody)
	})
	return serveUntilStdinCloses(ctx, func(ctx context.Context, ln net.Listener, ready func()) error {
		ready()
		return serveHTTP(ctx, ln, h)
	})
}

// targetConfig is the command line of `bench target KIND`.
type targetConfig struct {
	kind       string // bare, memory or redis
	upstream   string
	redis      string
	endpoints  string // JSON of providers.Endpoints (the fake Kakao's)
	cacheTTL   time.Duration
	sessions   int
	cookies    string
	cpuprofile string
	pool       bool   // bare: recycle copy buffers as socialgate does
	tokens     string // kakao, naver, google or mix: the sessions' token sizes
	issuer     string // set: the route also takes this issuer's bearer tokens
}

func parseTargetFlags(args []string) (targetConfig, error) {
	var c targetConfig
	if len(args) == 0 {
		return c, errors.New("target: want bare, memory or redis")
	}
	c.kind = args[0]
	fs := flag.NewFlagSet("target", flag.ContinueOnError)
	fs.StringVar(&c.upstream, "upstream", "", "upstream `URL`")
	fs.StringVar(&c.redis, "redis", "", "redis `address` (redis target)")
	fs.StringVar(&c.endpoints, "endpoints", "", "provider endpoints as `JSON`")
	fs.DurationVar(&c.cacheTTL, "cache-ttl", 0, "session cache TTL")
	fs.IntVar(&c.sessions, "sessions", 0, "create this many sessions through the Manager before serving")
	fs.StringVar(&c.cookies, "cookies", "", "write the created sessions' Cookie header values to this `file`")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the serving time to this `file`")
	fs.BoolVar(&c.pool, "pool", false, "bare: use a buffer pool")
	fs.StringVar(&c.tokens, "tokens", "mix", "token sizes of the created sessions: kakao, naver, google or mix")
	fs.StringVar(&c.issuer, "issuer", "", "accept bearer tokens of this `issuer` (audience "+benchAudience+") on the route")
	if err := fs.Parse(args[1:]); err != nil {
		return c, err
	}
	switch {
	case c.kind != "bare" && c.kind != "memory" && c.kind != "redis":
		return c, fmt.Errorf("target: unknown kind %q", c.kind)
	case c.upstream == "":
		return c, errors.New("target: -upstream is required")
	case c.kind == "redis" && c.redis == "":
		return c, errors.New("target: -redis is required")
	case c.tokens != "mix" && c.tokens != "kakao" && c.tokens != "naver" && c.tokens != "google":
		return c, fmt.Errorf("target: -tokens %q: want kakao, naver, google or mix", c.tokens)
	}
	return c, nil
}

// runTarget serves one target until stdin closes.
func runTarget(ctx context.Context, args []string) error {
	c, err := parseTargetFlags(args)
	if err != nil {
		return err
	}
	up, err := url.Parse(c.upstream)
	if err != nil {
		return fmt.Errorf("target: upstream: %w", err)
	}
	return serveUntilStdinCloses(ctx, func(ctx context.Context, ln net.Listener, ready func()) error {
		if c.cpuprofile != "" {
			f, err := os.Create(c.cpuprofile)
			if err != nil {
				return fmt.Errorf("target: %w", err)
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return fmt.Errorf("target: %w", err)
			}
			defer pprof.StopCPUProfile()
		}
		if c.kind == "bare" {
			ready()
			return serveHTTP(ctx, ln, bareProxy(up, c.pool))
		}
		return serveGateway(ctx, ln, c, up, ready)
	})
}

// bareProxy is the reference: httputil.ReverseProxy as its documentation
// shows it (X-Forwarded-* set, default buffers), with the idle-connection
// pool socialgate's transport has. http.DefaultTransport keeps only 2 idle
// connections per host, so under 32 connections it would dial the upstream
// for most requests and measure TCP handshakes, not proxying. With pool it
// also recycles its copy buffers, as socialgate does: the fairest floor.
func bareProxy(up *url.URL, pool bool) http.Handler {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	rp := &httputil.ReverseProxy{
		Transport: t,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up)
			pr.SetXForwarded()
		},
	}
	if pool {
		rp.BufferPool = &bufferPool{}
	}
	return rp
}

// bufferPool is the same pool socialgate's proxy uses.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

// serveGateway wires a proxy.Server the way cmd/socialgate/wire.go does:
// the store, a Manager, the cookies, one provider (the fake Kakao) and one
// route to the upstream.
func serveGateway(ctx context.Context, ln net.Listener, c targetConfig, up *url.URL, ready func()) error {
	secret := []byte(os.Getenv(secretEnv))
	var store session.Store
	if c.kind == "redis" {
		r, err := session.NewRedis(session.RedisOptions{Addrs: []string{c.redis}, Secret: secret})
		if err != nil {
			return fmt.Errorf("target: %w", err)
		}
		store = r
	} else {
		store = session.NewMemory(session.MemoryOptions{})
	}
	defer store.Close()
	cookies, err := session.NewCookies(session.CookieOptions{Secret: secret})
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	mgr, err := session.NewManager(session.ManagerOptions{Store: store, CacheTTL: c.cacheTTL})
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	defer mgr.Close()
	public := "http://" + ln.Addr().String()
	var ep providers.Endpoints
	if err := json.Unmarshal([]byte(c.endpoints), &ep); err != nil {
		return fmt.Errorf("target: -endpoints: %w", err)
	}
	prov, err := providers.New(providers.Options{Name: "kakao", ClientID: "bench-kakao",
		RedirectURL: public + "/oauth2/callback/kakao", Endpoints: ep})
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	route := proxy.Route{Name: "app", Path: "/", URL: up}
	var verifier *bearer.Verifier
	if c.issuer != "" {
		if verifier, err = bearer.New(bearer.Options{Issuers: []bearer.Issuer{{Issuer: c.issuer}}}); err != nil {
			return fmt.Errorf("target: %w", err)
		}
		route.Bearer = []bearer.Audience{{Issuer: c.issuer, Audiences: []string{benchAudience}}}
	}
	srv, err := proxy.New(proxy.Options{
		PublicURL: public,
		Providers: []proxy.Provider{prov},
		Sessions:  mgr,
		Cookies:   cookies,
		Routes:    []proxy.Route{route},
		Bearer:    verifier,
		Logger:    slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	if c.sessions > 0 {
		if err := createSessions(ctx, mgr, cookies, c.sessions, c.tokens, c.cookies); err != nil {
			return err
		}
		// Creating them in a burst leaves garbage a gateway that signed
		// the same users in over hours would not have; the parent measures
		// the peak from here on.
		debug.FreeOSMemory()
	}
	ready()
	return serveHTTP(ctx, ln, srv)
}

// createSessions signs in n distinct users through the Manager, with the
// token sizes of provider (mix: Kakao, Naver and Google in turn), and
// writes one Cookie header value per line to path.
func createSessions(ctx context.Context, mgr *session.Manager, cookies *session.Cookies, n int, provider, path string) error {
	kinds := []string{provider}
	if provider == "mix" {
		kinds = []string{"kakao", "naver", "google"}
	}
	var out []string
	for i := range n {
		s, err := mgr.Create(ctx, realisticSession(kinds[i%len(kinds)], i), "")
		if err != nil {
			return fmt.Errorf("target: create session %d: %w", i, err)
		}
		rec := httptest.NewRecorder()
		cookies.WriteSession(rec, s.ID)
		ck := rec.Result().Cookies()
		if len(ck) != 1 {
			return errors.New("target: no session cookie written")
		}
		out = append(out, ck[0].Name+"="+ck[0].Value)
	}
	if path == "" {
		return nil
	}
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("target: %w", err)
	}
	return nil
}

// realisticSession is user i of provider with the sizes the real providers
// issue: Kakao a decimal ID and 54-character tokens (no id_token unless
// OIDC is on, the default being off); Naver a 43-character ID, a ~120
// character access token and a ~150 character refresh token; Google a
// 21-digit subject, a ya29. access token (~165 bytes), a 1// refresh token
// (~100 bytes) and an RS256 id_token (~1060 bytes).
func realisticSession(provider string, i int) *session.Session {
	s := &session.Session{Provider: provider, Name: "홍길동", EmailVerified: true,
		TokenExpiry: time.Now().Add(time.Hour)}
	switch provider {
	case "kakao":
		s.Subject = strconv.Itoa(3456789012 + i)
		s.Email = "gildong" + strconv.Itoa(i) + "@kakao.com"
		s.Picture = "http://k.kakaocdn.net/dn/" + randText(22) + "/img_640x640.jpg"
		s.AccessToken, s.RefreshToken = randText(54), randText(54)
		s.TokenExpiry = time.Now().Add(6 * time.Hour)
	case "naver":
		s.Subject = randText(43)
		s.Email = "gildong" + strconv.Itoa(i) + "@naver.com"
		s.EmailVerified = false
		s.Picture = "https://phinf.pstatic.net/contact/2024/" + randText(24) + ".jpg"
		s.AccessToken, s.RefreshToken = "AAAAO"+randText(115), randText(150)
	default:
		s.Subject = fmt.Sprintf("1%020d", 10169484474386276+i)
		s.Email = "hong.gildong" + strconv.Itoa(i) + "@gmail.com"
		s.Picture = "https://lh3.googleusercontent.com/a/ACg8ocJ" + randText(54) + "=s96-c"
		s.AccessToken = "ya29." + randText(160)
		s.RefreshToken = "1//0e" + randText(96)
	}
	return s
}

// randText is n characters of base64url.
func randText(n int) string {
	b := make([]byte, n*3/4+3)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// serveUntilStdinCloses listens on a loopback port and runs serve until
// stdin reaches EOF (the parent closed it or died) or ctx ends. serve calls
// ready, which prints "ready ADDR", once it is set up.
func serveUntilStdinCloses(ctx context.Context, serve func(ctx context.Context, ln net.Listener, ready func()) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
		cancel()
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	err = serve(ctx, ln, func() { fmt.Printf("ready %s\n", ln.Addr()) })
	if errors.Is(err, http.ErrServerClosed) || ctx.Err() != nil {
		return nil
	}
	return err
}

// serveHTTP serves h on ln until ctx ends.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	_ = srv.Shutdown(sctx)
	return nil
}
