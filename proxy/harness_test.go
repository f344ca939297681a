package proxy_test

import (
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/proxy"
	"github.com/socialgate/socialgate/session"
	"github.com/socialgate/socialgate/session/redistest"
)

// testSecret is a cookie secret for tests only.
var testSecret = []byte("0123456789abcdef0123456789abcdef-test-only")

// gateway is a real socialgate on a loopback port, with the fake providers
// and a header-echoing upstream, all over real HTTP.
type gateway struct {
	t        testing.TB
	URL      string
	srv      *proxy.Server
	fakes    map[string]*providertest.Fake
	store    session.Store
	sessions *session.Manager
	upstream *httptest.Server
	logs     *syncBuffer
	now      *clock
	// cookies is what the gateway signs with; issued collects every
	// Set-Cookie value it sent, for the no-secrets-in-logs check.
	cookies *session.Cookies
	issued  *syncBuffer
}

type gatewayConfig struct {
	store     string // "memory" (default) or "redis"
	redisAddr string // with store "redis": use this server instead of starting one
	routes    func(upstream string) []proxy.Route
	allowed   []string
	trusted   []string
	refresh   time.Duration
	kakaoOIDC bool
	// kakaoAutoLogin sets providers.Options.AutoLogin on kakao.
	kakaoAutoLogin bool
	naverTrust     bool

	// lifetime and idle set the session rules, loginBytes and
	// clientLoginBytes the pending-login budgets; zero: the Manager's
	// defaults.
	lifetime, idle               time.Duration
	loginBytes, clientLoginBytes int64
	// revokeTokens sets proxy.Options.RevokeProviderTokens.
	revokeTokens bool
	// wrapProvider, when set, wraps each provider (to watch or delay calls).
	wrapProvider func(proxy.Provider) proxy.Provider
	// Replicas: publicURL is the address browsers use (a load balancer in
	// front of several gateways; zero: this gateway's own URL), and fakes
	// and now, when set, are shared with another gateway.
	publicURL string
	fakes     map[string]*providertest.Fake
	now       *clock

	// The attack suite's knobs (attack_*_test.go): the cookie options
	// (Secret zero: testSecret), the memory store's options (Now zero: the
	// clock), the fakes' users by kind (zero: their defaults), and a last
	// word on the server's options.
	cookie  session.CookieOptions
	memory  session.MemoryOptions
	users   map[string][]providertest.User
	options func(*proxy.Options)
	// handler, when set, wraps the gateway's handler (to watch requests).
	handler func(http.Handler) http.Handler
	// accounts turns on linked accounts (a file in t.TempDir for the memory
	// store when File is zero); logout sets every provider's logout: true
	// and makes the OIDC fakes issuers with end-session and back-channel
	// logout; adminKey is the Kakao Admin key of the unlink callback.
	accounts session.AccountsOptions
	logout   bool
	adminKey string
	// instances are more provider instances after the three built-in ones,
	// each with a fake of its kind of its own, keyed by id in fakes.
	instances []instance
	// listener, when set, is where the gateway listens, opened by the test
	// before a real issuer that must know the callback URL starts.
	listener net.Listener
}

// instance is one more provider instance: an id of its own and a kind. A
// generic OpenID Connect instance is configured with its issuer alone, so
// its endpoints, PKCE and client authentication come from discovery.
type instance struct {
	id, kind, display string
	oidc              providertest.OIDCOptions
	// issuer, when set, is a real issuer the test started (no fake):
	// the client is {id}-client with the secret {id}-secret.
	issuer string
	// scopes zero: the kind's defaults.
	scopes []string
}

// clock is a settable clock shared by the gateway, the store and the fakes.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer collects log output for assertions (no secrets in logs).
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newGateway(t testing.TB, cfg gatewayConfig) *gateway {
	t.Helper()
	g := &gateway{t: t, fakes: map[string]*providertest.Fake{}, logs: &syncBuffer{},
		now: cfg.now, issued: &syncBuffer{}}
	if g.now == nil {
		g.now = &clock{t: time.Now()}
	}

	g.upstream = httptest.NewServer(http.HandlerFunc(echoHeaders))
	t.Cleanup(g.upstream.Close)

	ts := httptest.NewUnstartedServer(nil)
	if cfg.listener != nil {
		ts.Listener.Close()
		ts.Listener = cfg.listener
	}
	g.URL = "http://" + ts.Listener.Addr().String()
	public := g.URL
	if cfg.publicURL != "" {
		public = cfg.publicURL
	}

	var provs []proxy.Provider
	all := []instance{{id: "google", kind: "google"}, {id: "naver", kind: "naver"}, {id: "kakao", kind: "kakao"}}
	for _, in := range append(all, cfg.instances...) {
		id, kind := in.id, in.kind
		secret := id + "-secret"
		f := cfg.fakes[id]
		if f == nil && in.issuer == "" {
			var err error
			f, err = providertest.Start(kind, providertest.Options{ClientID: id + "-client", ClientSecret: secret, Now: g.now.Now,
				Users: cfg.users[kind], OIDC: in.oidc, Logout: cfg.logout && kind == providertest.OIDC})
			if err != nil {
				t.Fatalf("start fake %s: %v", id, err)
			}
			t.Cleanup(f.Close)
		}
		ep := providertest.Endpoints{Issuer: in.issuer}
		if f != nil {
			g.fakes[id] = f
			ep = f.Endpoints()
			if kind == providertest.OIDC {
				ep = providertest.Endpoints{Issuer: ep.Issuer}
			}
		}
		p, err := providers.New(providers.Options{
			Name:         id,
			Kind:         kind,
			DisplayName:  in.display,
			Scopes:       in.scopes,
			ClientID:     id + "-client",
			ClientSecret: secret,
			RedirectURL:  public + "/oauth2/callback/" + id,
			Endpoints: providers.Endpoints{
				AuthURL: ep.AuthURL, TokenURL: ep.TokenURL, UserinfoURL: ep.UserinfoURL,
				Issuer: ep.Issuer, JWKSURL: ep.JWKSURL, RevokeURL: ep.RevokeURL, EndSessionURL: ep.EndSessionURL,
			},
			OIDC:       kind == "kakao" && cfg.kakaoOIDC,
			AutoLogin:  kind == "kakao" && cfg.kakaoAutoLogin,
			TrustEmail: kind == "naver" && cfg.naverTrust,
			Logout:     cfg.logout && kind != "naver",
			AdminKey:   map[bool]string{true: cfg.adminKey}[kind == "kakao"],
			Timeout:    2 * time.Second,
			Now:        g.now.Now,
		})
		if err != nil {
			t.Fatalf("provider %s: %v", id, err)
		}
		if cfg.wrapProvider != nil {
			provs = append(provs, cfg.wrapProvider(p))
			continue
		}
		provs = append(provs, p)
	}

	switch cfg.store {
	case "", "memory":
		mo := cfg.memory
		if mo.Now == nil {
			mo.Now = g.now.Now
		}
		m := session.NewMemory(mo)
		g.store = m
	case "redis":
		addr := cfg.redisAddr
		if addr == "" {
			addr = redisAddr(t)
		}
		r, err := session.NewRedis(session.RedisOptions{Addrs: []string{addr}, Secret: testSecret, Now: g.now.Now,
			KeyPrefix: "sgtest:"})
		if err != nil {
			t.Fatalf("redis store: %v", err)
		}
		g.store = r
	default:
		t.Fatalf("unknown store %q", cfg.store)
	}
	t.Cleanup(func() { _ = g.store.Close() })
	co := cfg.cookie
	if co.Secret == nil {
		co.Secret = testSecret
	}
	if co.Now == nil {
		co.Now = g.now.Now
	}
	if co.MaxAge == 0 {
		// As cmd does: the cookie's signature lasts as long as a session.
		co.MaxAge = cfg.lifetime
	}
	cookies, err := session.NewCookies(co)
	if err != nil {
		t.Fatal(err)
	}
	g.cookies = cookies
	if cfg.accounts.Enabled && cfg.accounts.File == "" {
		cfg.accounts.File = filepath.Join(t.TempDir(), "accounts.json")
	}
	g.sessions, err = session.NewManager(session.ManagerOptions{Store: g.store, Now: g.now.Now,
		Lifetime: cfg.lifetime, IdleTimeout: cfg.idle, Accounts: cfg.accounts,
		PendingLoginBytes: cfg.loginBytes, ClientPendingLoginBytes: cfg.clientLoginBytes})
	if err != nil {
		t.Fatal(err)
	}
	upURL, _ := url.Parse(g.upstream.URL)
	routes := []proxy.Route{
		{Name: "app", Path: "/", URL: upURL},
		{Name: "public", Path: "/public", URL: upURL, Public: true},
	}
	if cfg.routes != nil {
		routes = cfg.routes(g.upstream.URL)
	}
	opts := proxy.Options{
		PublicURL:      public,
		Providers:      provs,
		Sessions:       g.sessions,
		Cookies:        cookies,
		Routes:         routes,
		AllowedHosts:   cfg.allowed,
		Logger:         slog.New(slog.NewJSONHandler(g.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:            g.now.Now,
		RefreshBefore:  cfg.refresh,
		TrustedProxies: mustPrefixes(t, cfg.trusted),

		RevokeProviderTokens: cfg.revokeTokens,
	}
	if cfg.options != nil {
		cfg.options(&opts)
	}
	g.srv, err = proxy.New(opts)
	if err != nil {
		t.Fatalf("proxy.New: %v", err)
	}
	ts.Config.Handler = g.spyCookies(g.srv)
	if cfg.handler != nil {
		ts.Config.Handler = cfg.handler(ts.Config.Handler)
	}
	ts.Start()
	t.Cleanup(ts.Close)
	// Every test that runs a gateway also checks that nothing secret
	// reached its log (registered last, so it runs while the store is open).
	t.Cleanup(func() { assertNoSecretsLogged(t, g) })
	return g
}

// echoHeaders is the sample upstream: it answers with what it received.
// redisAddr is the address of a Redis for one test: a real redis-server, or
// under -short an in-process miniredis, so the Redis store's paths through
// the gateway stay covered in the short tier. Tests that need what only the
// real server does (restarts, persistence) call redistest directly and are
// skipped under -short.
func redisAddr(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		return miniredis.RunT(t).Addr()
	}
	return redistest.Start(t).Addr
}

func echoHeaders(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if id := r.Header.Get("X-Request-Id"); id != "" {
		w.Header().Set("X-Request-Id", id) // as many apps do
	}
	_ = json.NewEncoder(w).Encode(echo{
		Method:     r.Method,
		Host:       r.Host,
		RequestURI: r.RequestURI,
		Path:       r.URL.Path,
		Header:     r.Header,
		NameHex:    hex.EncodeToString([]byte(r.Header.Get("X-Forwarded-Preferred-Username"))),
	})
}

type echo struct {
	Method     string
	Host       string
	RequestURI string
	Path       string
	Header     http.Header
	// NameHex is the raw bytes of X-Forwarded-Preferred-Username, which
	// JSON cannot carry when they are EUC-KR.
	NameHex string
}

func mustPrefixes(t testing.TB, cidrs []string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}
