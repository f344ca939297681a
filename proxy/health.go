package proxy

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// healthz says the process is alive; it never looks at dependencies.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz is 200 only when the session store answers, so a load balancer
// takes a replica that lost Redis out of rotation.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.sessions.Ping(ctx); err != nil {
		s.metrics.storeErrors.Inc()
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("session store unavailable\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// metrics are the gateway's Prometheus series. Per-request counters are
// resolved once at startup so the hot path is an atomic add.
type metrics struct {
	reg         *prometheus.Registry
	once        sync.Once
	h           http.Handler
	logins      *prometheus.CounterVec
	storeErrors prometheus.Counter
	refreshes   *prometheus.CounterVec
	// providerEvents counts what providers told the gateway (back-channel
	// logout, Kakao unlink) and account links (logout.go, accounts.go).
	providerEvents *prometheus.CounterVec
	decisions      struct {
		allowed, unauthenticated, forbidden, noRoute prometheus.Counter
	}
	upstream map[string]*upstreamMetrics
	// upgraded counts open upgraded connections; upgradesEnded those the
	// gateway closed.
	upgraded      prometheus.Gauge
	upgradesEnded *prometheus.CounterVec
	// replays counts form POSTs kept across a login, by what became of them.
	replays *prometheus.CounterVec
}

type upstreamMetrics struct {
	codes [6]prometheus.Counter // by status class: 1xx..5xx, and [0] for errors
}

func newMetrics(reg *prometheus.Registry, p *policy) (*metrics, error) {
	m := &metrics{reg: reg, upstream: map[string]*upstreamMetrics{}}
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "socialgate_logins_total", Help: "Logins by provider and result.",
	}, []string{"provider", "result"})
	m.refreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "socialgate_token_refreshes_total", Help: "Provider token refreshes by provider and result.",
	}, []string{"provider", "result"})
	m.providerEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "socialgate_provider_events_total", Help: "Back-channel logouts, Kakao unlinks and account links by provider and result.",
	}, []string{"provider", "result"})
	m.storeErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "socialgate_session_store_errors_total", Help: "Session store failures seen while serving.",
	})
	decisions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "socialgate_auth_decisions_total", Help: "Decisions (Server.decide) for proxied and forward-auth requests: allowed, unauthenticated, forbidden on protected routes; no_route when no route matches.",
	}, []string{"result"})
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "socialgate_upstream_responses_total", Help: "Proxied responses by route and status class.",
	}, []string{"route", "code"})
	m.upgraded = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "socialgate_upgraded_connections", Help: "Upgraded connections (WebSockets) open now.",
	})
	m.upgradesEnded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "socialgate_upgraded_connections_ended_total",
		Help: "Upgraded connections the gateway closed, by reason (session_ended, shutdown).",
	}, []string{"reason"})
	m.replays = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "socialgate_form_replays_total",
		Help: "Form POSTs kept across a login: parked, delivered, refused (spent or another session's), dropped.",
	}, []string{"result"})
	var err error
	// A Server built at a config reload shares the registry with the one
	// it replaces: it takes over the series already registered, so that
	// counters keep counting and the gauge of open connections stays one.
	if m.logins, err = register(reg, m.logins); err != nil {
		return nil, err
	}
	if m.refreshes, err = register(reg, m.refreshes); err != nil {
		return nil, err
	}
	if m.providerEvents, err = register(reg, m.providerEvents); err != nil {
		return nil, err
	}
	if m.storeErrors, err = register(reg, m.storeErrors); err != nil {
		return nil, err
	}
	if decisions, err = register(reg, decisions); err != nil {
		return nil, err
	}
	if requests, err = register(reg, requests); err != nil {
		return nil, err
	}
	if m.upgraded, err = register(reg, m.upgraded); err != nil {
		return nil, err
	}
	if m.upgradesEnded, err = register(reg, m.upgradesEnded); err != nil {
		return nil, err
	}
	if m.replays, err = register(reg, m.replays); err != nil {
		return nil, err
	}
	m.decisions.allowed = decisions.WithLabelValues("allowed")
	m.decisions.unauthenticated = decisions.WithLabelValues("unauthenticated")
	m.decisions.forbidden = decisions.WithLabelValues("forbidden")
	m.decisions.noRoute = decisions.WithLabelValues("no_route")
	classes := [6]string{"error", "1xx", "2xx", "3xx", "4xx", "5xx"}
	for _, rt := range p.routes {
		um := &upstreamMetrics{}
		for i, c := range classes {
			um.codes[i] = requests.WithLabelValues(rt.Name, c)
		}
		m.upstream[rt.Name] = um
	}
	return m, nil
}

// register registers c, or returns the collector already registered
// under the same description (a reload's new Server).
func register[C prometheus.Collector](reg *prometheus.Registry, c C) (C, error) {
	err := reg.Register(c)
	if are := (prometheus.AlreadyRegisteredError{}); errors.As(err, &are) {
		if prev, ok := are.ExistingCollector.(C); ok {
			return prev, nil
		}
	}
	return c, err
}

// MetricsHandler serves the Prometheus metrics to anyone who reaches it:
// mount it on a listener of its own (server.metrics_listen) and set
// Options.MetricsElsewhere.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// serveMetrics is /metrics on the main listener: only for loopback and
// trusted proxy peers (a scraper on the host or the cluster network),
// never for the internet: route names, login and error rates are not
// public. Everyone else gets the 404 any unknown path gets.
//
// The peer alone is not enough: a load balancer in trusted_proxies (the
// compose and Kubernetes examples) or an nginx on the same host relays
// the internet's requests from a trusted or loopback address. So the
// client it names counts too: the one a trusted proxy's X-Forwarded-For
// names must be loopback or trusted, and a peer outside trusted_proxies
// that forwards for someone else (X-Forwarded-For, X-Real-IP, Forwarded)
// is refused, as its client cannot be known.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.opts.MetricsElsewhere || !s.internalClient(r) {
		s.writeError(w, r, errorf(http.StatusNotFound, errNotFound, nil))
		return
	}
	s.metrics.handler().ServeHTTP(w, r)
}

// internalClient reports whether the client behind r is loopback or in
// trusted_proxies, after believing what trusted proxies say about it.
func (s *Server) internalClient(r *http.Request) bool {
	trusted := s.opts.TrustedProxies
	fwd := readForwarded(r, trusted)
	if !fwd.Trusted && (len(r.Header["X-Forwarded-For"]) > 0 || len(r.Header["X-Real-Ip"]) > 0 || len(r.Header["Forwarded"]) > 0) {
		return false
	}
	c := fwd.ClientIP
	return c.IsValid() && (c.IsLoopback() || addrTrusted(c, trusted))
}

func (m *metrics) handler() http.Handler {
	m.once.Do(func() { m.h = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) })
	return m.h
}

func (um *upstreamMetrics) observe(status int) {
	c := status / 100
	if c < 1 || c > 5 {
		c = 0
	}
	um.codes[c].Inc()
}
