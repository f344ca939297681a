package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socialgate/socialgate/config"
	"github.com/socialgate/socialgate/proxy"
)

// upgradedCloseWait bounds how long a stop waits for WebSockets to take
// their close frames, after the requests in flight have finished.
const upgradedCloseWait = 5 * time.Second

// newHTTPServer is the http.Server the gateway runs on. Every limit is set:
// a client that sends its headers slowly (slowloris), never finishes its
// body or sends megabytes of headers must not hold a connection or memory.
// An explicit 0 in the config is "no limit", as documented; proxied streams
// and upgraded connections are exempt from ReadTimeout and WriteTimeout
// (proxy.Options.StreamWriteTimeout bounds them per write instead).
func newHTTPServer(s config.Server, h http.Handler, log *slog.Logger, base context.Context) *http.Server {
	idle := s.IdleTimeout
	if idle == 0 {
		// net/http would use ReadTimeout for a zero IdleTimeout; negative
		// is its "none".
		idle = -1
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.ReadHeaderTimeout,
		ReadTimeout:       s.ReadTimeout,
		WriteTimeout:      s.WriteTimeout,
		IdleTimeout:       idle,
		MaxHeaderBytes:    s.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// Requests are not cancelled by the stop signal: Shutdown lets
		// them finish.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(base) },
	}
}

// runGateway serves gw on cfg.Server.Listen until ctx ends. Each value on
// reload re-reads path (SIGHUP). When ctx ends it stops accepting, lets the
// requests in flight finish within server.shutdown_timeout, then closes
// the WebSockets with a close frame; the caller then closes the store.
func runGateway(ctx context.Context, path string, gw *gateway, log *slog.Logger, reload <-chan os.Signal) error {
	ln, err := net.Listen("tcp", gw.current().cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if addr := gw.current().cfg.Server.MetricsListen; addr != "" {
		stopMetrics, err := serveMetrics(addr, gw, log)
		if err != nil {
			_ = ln.Close()
			return err
		}
		defer stopMetrics()
	}
	srv := newHTTPServer(gw.current().cfg.Server, gw, log, ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("public_url", gw.current().cfg.Server.PublicURL))
	for {
		select {
		case err := <-errc:
			return err
		case <-reload:
			gw.reload(path, log)
			continue
		case <-ctx.Done():
		}
		break
	}
	return gw.stop(srv, errc, log)
}

// serveMetrics serves GET /metrics of the current configuration on addr
// (server.metrics_listen), a listener meant for the scraper's network
// only; the main listener then answers /metrics with 404. The returned
// func stops it.
func serveMetrics(addr string, gw *gateway, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		gw.current().srv.MetricsHandler().ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	log.Info("serving metrics", slog.String("addr", ln.Addr().String()))
	return func() { _ = srv.Close() }, nil
}

// stop is the graceful part of runGateway.
func (g *gateway) stop(srv *http.Server, errc <-chan error, log *slog.Logger) error {
	wait := g.current().cfg.Server.ShutdownTimeout
	log.Info("stopping", slog.Duration("shutdown_timeout", wait))
	sctx, cancel := context.WithTimeout(context.Background(), wait)
	err := srv.Shutdown(sctx)
	cancel()
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("requests still in flight at shutdown_timeout; cut")
		err = srv.Close()
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	cctx, cancel := context.WithTimeout(context.Background(), upgradedCloseWait)
	defer cancel()
	if n := g.closeUpgraded(cctx); n > 0 {
		log.Info("closed upgraded connections", slog.Int("connections", n))
	}
	return err
}

// live is one configuration's proxy.Server. A reload swaps in a new one;
// requests and WebSockets the old one accepted finish on it.
type live struct {
	srv *proxy.Server
	cfg *config.Config
}

// liveServers is the gateway's handler: the current live server, swapped
// atomically at reload, and the earlier ones still holding WebSockets.
type liveServers struct {
	cur  atomic.Pointer[live]
	mu   sync.Mutex
	prev []*proxy.Server
}

func (l *liveServers) current() *live { return l.cur.Load() }

func (l *liveServers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.cur.Load().srv.ServeHTTP(w, r)
}

// swap makes next current and keeps the old server while it has
// upgraded connections open.
func (l *liveServers) swap(next *live) {
	old := l.cur.Swap(next)
	if old == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	kept := l.prev[:0]
	for _, p := range append(l.prev, old.srv) {
		if p.Upgraded() > 0 {
			kept = append(kept, p)
		}
	}
	l.prev = kept
}

// closeUpgraded closes the WebSockets of every server, current and old.
func (l *liveServers) closeUpgraded(ctx context.Context) int {
	l.mu.Lock()
	all := append([]*proxy.Server{l.cur.Load().srv}, l.prev...)
	l.mu.Unlock()
	n := 0
	for _, s := range all {
		n += s.CloseUpgraded(ctx)
	}
	return n
}

// reload re-reads path. A valid file takes effect at once for new
// requests (routes, policies, providers, pages, redirects, cookie flags);
// connections, WebSockets and sessions stay. An invalid one is logged
// with check-config's FILE:LINE lines and the running config stays.
func (g *gateway) reload(path string, log *slog.Logger) {
	log.Info("reloading", slog.String("config", path))
	cfg, err := config.Load(path)
	if err != nil {
		var problems config.Problems
		if errors.As(err, &problems) {
			for _, p := range problems {
				log.Error("reload refused", slog.String("problem", p.String()))
			}
		} else {
			log.Error("reload refused", slog.String("problem", fmt.Sprintf("%s:1: %v", path, err)))
		}
		return
	}
	if why := needsRestart(g.current().cfg, cfg); why != "" {
		log.Error("reload refused: "+why+" needs a restart; the running config stays", slog.String("config", path))
		return
	}
	for _, w := range cfg.Warnings() {
		log.Warn("config", slog.String("warning", w.String()))
	}
	// A broken team template or logo is refused like any other problem,
	// with its FILE:LINE.
	if ps := checkUI(cfg); len(ps) > 0 {
		for _, p := range ps {
			log.Error("reload refused", slog.String("problem", p.String()))
		}
		return
	}
	srv, err := newServer(cfg, g.sessions, log, g.registry)
	if err != nil {
		log.Error("reload refused", slog.String("problem", err.Error()))
		return
	}
	g.swap(&live{srv: srv, cfg: cfg})
	log.Info("config reloaded", slog.String("config", path))
}

// needsRestart names what changed in next that a running gateway cannot
// take over, or "". The session store and its rules hold every session and
// the watches of every WebSocket; the cookie secret signs every cookie
// (rotating it at reload would sign everyone out: rotate with
// cookie.previous_secrets and a restart); the listener and its limits
// belong to the http.Server that is serving.
func needsRestart(cur, next *config.Config) string {
	switch a, b := cur.Server, next.Server; {
	case a.Listen != b.Listen:
		return "server.listen"
	case a.MetricsListen != b.MetricsListen:
		return "server.metrics_listen"
	case a.ReadHeaderTimeout != b.ReadHeaderTimeout, a.ReadTimeout != b.ReadTimeout,
		a.WriteTimeout != b.WriteTimeout, a.IdleTimeout != b.IdleTimeout, a.MaxHeaderBytes != b.MaxHeaderBytes:
		return "a change of the server's timeouts or max_header_bytes"
	}
	switch {
	case cur.Cookie.Secret != next.Cookie.Secret || !reflect.DeepEqual(cur.Cookie.PreviousSecrets, next.Cookie.PreviousSecrets):
		return "a changed cookie.secret or cookie.previous_secrets"
	case cur.Session.Store != next.Session.Store || !reflect.DeepEqual(cur.Session.Redis, next.Session.Redis):
		return "a changed session.store or session.redis"
	case !reflect.DeepEqual(cur.Session, next.Session):
		return "a change under session"
	case cur.Log != next.Log:
		return "a change under log"
	case cur.Accounts != next.Accounts:
		// The session manager owns the accounts backend (Redis keys or
		// the memory store's file).
		return "a change under accounts"
	}
	return ""
}
