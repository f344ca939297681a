// Package proxy is socialgate's HTTP surface: the /oauth2/* endpoints, the
// login page, routing to upstreams with per-route policy, identity headers,
// the post-login redirect, and forward-auth for nginx, Traefik and Caddy.
package proxy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/socialgate/socialgate/bearer"
	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/session"
)

// Provider is what the gateway needs of an identity provider;
// *providers.Provider implements it.
type Provider interface {
	// Name is the instance id: routes, user keys, X-Forwarded-Provider.
	Name() string
	// Kind is what the instance is ("google", "oidc", "github"…).
	Kind() string
	// DisplayName is the button label: the configured one or the kind's.
	DisplayName() string
	// AutoLogin: inside the provider's own in-app browser (KakaoTalk for
	// Kakao), the sign-in page first tries a silent login (prompt=none).
	AutoLogin() bool
	NewAuthRequest() providers.AuthRequest
	// AuthURLContext may run OIDC discovery first; an error is the provider's.
	AuthURLContext(ctx context.Context, a providers.AuthRequest) (string, error)
	Exchange(ctx context.Context, code string, a providers.AuthRequest) (providers.Identity, providers.Tokens, error)
	Refresh(ctx context.Context, refreshToken string) (providers.Tokens, error)
	Revoke(ctx context.Context, t providers.Tokens) error
}

// Options configure a Server.
type Options struct {
	// PublicURL is the gateway's own address (required); callbacks live at
	// {PublicURL}/oauth2/callback/{provider}, and its host is "the gateway's
	// host" for redirects, never the request's Host header.
	PublicURL string
	// TrustedProxies are the peers whose X-Forwarded-* headers are believed.
	TrustedProxies []netip.Prefix
	// StripHeaders are request headers removed before the upstream, on top
	// of the built-in list (strip.go): "X-Corp-User" for one name,
	// "X-Corp-*" for a family; case and '_' do not matter. Zero: none.
	StripHeaders []string
	// Providers in the order their buttons appear; at least one.
	Providers []Provider
	// Sessions and Cookies are required.
	Sessions *session.Manager
	Cookies  *session.Cookies
	// Routes are the upstreams; at least one.
	Routes []Route
	// Bearer verifies the machine clients' tokens of routes with Bearer
	// set; zero: no route may set it.
	Bearer *bearer.Verifier
	// AllowedHosts are extra hosts a post-login redirect may go to.
	AllowedHosts []string
	// Logger; zero: slog.Default().
	Logger *slog.Logger
	// Now; zero: time.Now.
	Now func() time.Time
	// Transport carries requests upstream; zero: a clone of
	// http.DefaultTransport with larger idle pools.
	Transport http.RoundTripper
	// MetricsElsewhere says the caller serves MetricsHandler on a listener
	// of its own (server.metrics_listen): /metrics on this handler is 404.
	// Zero: /metrics is answered here, only to loopback and TrustedProxies
	// peers (404 to everyone else).
	MetricsElsewhere bool
	// Registry receives the gateway's metrics; zero: a new registry.
	Registry *prometheus.Registry
	// RefreshBefore refreshes provider tokens this long before they expire;
	// zero: 1 minute. Negative: never refresh.
	RefreshBefore time.Duration
	// ProviderTimeout bounds one provider call made while serving a request;
	// zero: 10s.
	ProviderTimeout time.Duration
	// RevokeProviderTokens also revokes the provider's tokens at sign-out
	// (Google and Naver revoke, Kakao logout): best effort, in the
	// background, bounded by ProviderTimeout, never delaying the sign-out.
	// Naver's revocation (and maybe Google's) ends every token the user
	// granted the app, so the user's other sessions end at their next
	// refresh too. Zero: the tokens are left to expire.
	RevokeProviderTokens bool
	// UI is how the gateway's own pages look (app name, logo, templates).
	UI UIOptions

	// StreamWriteTimeout bounds each write to the client of a proxied
	// stream (server-sent events, a response of unknown length) and of an
	// upgraded connection (WebSocket). Those are exempt from the
	// http.Server's whole-response WriteTimeout and ReadTimeout, which
	// would cut them; instead a client that stops reading is cut when one
	// write takes longer than this. Run it with the server's WriteTimeout.
	// Zero: no limit.
	StreamWriteTimeout time.Duration
	// ReplayMaxBytes is the largest browser form POST to a protected route
	// without a session that is kept across the login and delivered to its
	// URL once the user is signed in (replay.go); a larger one gets a 413
	// page. Zero: forms are not kept (the browser gets 401, as API clients).
	ReplayMaxBytes int64
}

// Server is the gateway.
type Server struct {
	opts      Options
	log       *slog.Logger
	now       func() time.Time
	public    *url.URL
	providers map[string]Provider
	order     []Provider
	sessions  *session.Manager
	cookies   *session.Cookies
	policy    *policy
	strip     *headerStripper
	redirects *redirectPolicy
	pages     *pages
	ids       *requestIDs
	upstream  *upstreams
	metrics   *metrics
	mux       *http.ServeMux
	// revokeSlots bounds background token revocations in flight.
	revokeSlots chan struct{}
	// upgraded are the WebSockets (and other upgraded connections) open
	// through this Server.
	upgraded *upgrades
}

// New checks opts and builds a Server. It makes no network calls.
func New(opts Options) (*Server, error) {
	pub, err := url.Parse(opts.PublicURL)
	if err != nil || (pub.Scheme != "http" && pub.Scheme != "https") || pub.Host == "" {
		return nil, fmt.Errorf("proxy: public url %q must be an absolute http(s) URL", opts.PublicURL)
	}
	pub.Path, pub.RawPath = strings.TrimSuffix(pub.Path, "/"), ""
	if len(opts.Providers) == 0 {
		return nil, errors.New("proxy: no providers")
	}
	if opts.Sessions == nil || opts.Cookies == nil {
		return nil, errors.New("proxy: sessions and cookies are required")
	}
	if len(opts.Routes) == 0 {
		return nil, errors.New("proxy: no routes")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RefreshBefore == 0 {
		opts.RefreshBefore = time.Minute
	}
	if opts.ProviderTimeout == 0 {
		opts.ProviderTimeout = 10 * time.Second
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	s := &Server{
		opts:      opts,
		log:       opts.Logger,
		now:       opts.Now,
		public:    pub,
		providers: map[string]Provider{},
		order:     opts.Providers,
		sessions:  opts.Sessions,
		cookies:   opts.Cookies,

		revokeSlots: make(chan struct{}, maxRevokesInFlight),
	}
	for _, p := range opts.Providers {
		if _, dup := s.providers[p.Name()]; dup {
			return nil, fmt.Errorf("proxy: provider %q configured twice", p.Name())
		}
		s.providers[p.Name()] = p
	}
	if s.strip, err = newHeaderStripper(opts.StripHeaders); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	if s.policy, err = newPolicy(opts.Routes, opts.Bearer); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	if s.redirects, err = newRedirectPolicy(pub, s.policy.upstreamHosts(), opts.AllowedHosts); err != nil {
		return nil, fmt.Errorf("proxy: redirects: %w", err)
	}
	if s.pages, err = newPages(opts.UI); err != nil {
		return nil, fmt.Errorf("proxy: ui: %w", err)
	}
	var seed [6]byte
	_, _ = rand.Read(seed[:])
	s.ids = newRequestIDs(seed[:])
	if s.metrics, err = newMetrics(opts.Registry, s.policy); err != nil {
		return nil, fmt.Errorf("proxy: metrics: %w", err)
	}
	s.upgraded = newUpgrades(s.metrics)
	s.upstream = newUpstreams(s, opts.Transport)
	s.mux = s.routes()
	return s, nil
}

// routes registers the gateway's own endpoints. Everything else goes to the
// upstream router.
func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.Handle("GET /oauth2/sign_in", s.handle(s.signIn))
	m.Handle("GET /oauth2/start/{provider}", s.handle(s.start))
	m.Handle("GET /oauth2/callback/{provider}", s.handle(s.callback))
	m.Handle("GET /oauth2/sign_out", s.handle(s.signOutPage))
	m.Handle("POST /oauth2/sign_out", s.handle(s.signOut))
	m.Handle("GET /oauth2/userinfo", s.handle(s.userinfo))
	m.Handle("GET /oauth2/auth", s.handle(s.forwardAuth))
	m.HandleFunc("GET /oauth2/static/{file}", s.pages.serveStatic)
	// The person's own pages and logout that reaches the provider
	// (accounts.go, sessions.go, logout.go).
	m.Handle("GET /oauth2/{$}", s.handle(s.accountPage))
	m.Handle("GET /oauth2/connect/{provider}", s.handle(s.connect))
	m.Handle("POST /oauth2/disconnect/{provider}", s.handle(s.disconnect))
	m.Handle("GET /oauth2/sessions", s.handle(s.sessionsPage))
	m.Handle("POST /oauth2/sessions/end", s.handle(s.endSessions))
	m.Handle("GET /oauth2/signed_out", s.handle(s.signedOut))
	m.Handle("POST /oauth2/backchannel_logout/{provider}", s.handle(s.backchannelLogout))
	m.Handle("GET /oauth2/unlink/kakao", s.handle(s.kakaoUnlink))
	m.Handle("POST /oauth2/unlink/kakao", s.handle(s.kakaoUnlink))
	m.Handle("/oauth2/", s.handle(func(http.ResponseWriter, *http.Request) error {
		return errorf(http.StatusNotFound, errNotFound, nil)
	}))
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /readyz", s.readyz)
	m.HandleFunc("GET /metrics", s.serveMetrics)
	return m
}

// ServeHTTP gives every request an ID, refuses ambiguous paths, and then
// serves the gateway's endpoints or proxies to the matching upstream.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rid := s.ids.next()
	w.Header().Set("X-Request-Id", rid)
	r = withRequestID(r, rid)

	cleaned, err := cleanPath(r.URL)
	if err != nil {
		s.writeError(w, r, errorf(http.StatusBadRequest, errBadPath, err))
		return
	}
	if isGatewayPath(cleaned) {
		if strings.HasPrefix(cleaned, "/oauth2/") {
			endpointHeaders(w.Header())
		}
		// The mux would redirect unclean paths; route on the cleaned one.
		r.URL.Path, r.URL.RawPath = cleaned, ""
		s.mux.ServeHTTP(w, r)
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &clientBody{ReadCloser: r.Body}
	}
	if err := s.upstream.serve(w, r, cleaned); err != nil {
		s.writeError(w, r, err)
	}
}

// clientBody marks the errors of reading the client's request body, so
// that a truncated or malformed body (a smuggling attempt, a client that
// went away) is answered 400, not 502 as if the upstream had failed.
type clientBody struct{ io.ReadCloser }

// clientBodyError is a read error of the client's request body.
type clientBodyError struct{ err error }

func (e *clientBodyError) Error() string { return "reading request body: " + e.err.Error() }
func (e *clientBodyError) Unwrap() error { return e.err }

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = &clientBodyError{err}
	}
	return n, err
}

func isGatewayPath(p string) bool {
	return strings.HasPrefix(p, "/oauth2/") || p == "/oauth2" ||
		p == "/healthz" || p == "/readyz" || p == "/metrics"
}

// publicURL joins a gateway path to PublicURL.
func (s *Server) publicURL(path string, q url.Values) string {
	u := *s.public
	u.Path += path
	if q != nil {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// signInURL is where a browser without a session goes; rd is the full
// original URL, absolute on the gateway or an upstream host.
func (s *Server) signInURL(rd string) string {
	return s.publicURL("/oauth2/sign_in", url.Values{"rd": {rd}})
}
