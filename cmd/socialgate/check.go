package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/socialgate/socialgate/config"
	"github.com/socialgate/socialgate/providers"
)

// checkConfig prints every problem as FILE:LINE: key.path: message, on
// stdout, and exits 1 when there is one. With --connect it then asks what
// the config points at: the session store, each provider (its OpenID
// discovery where it has one, then its authorization endpoint) and each
// upstream, one line each.
func (c *cli) checkConfig(ctx context.Context, args []string) error {
	fs := c.flags("check-config")
	path := configFlag(fs)
	connect := fs.Bool("connect", false, "also check that the session store, every provider and every upstream answer")
	timeout := fs.Duration("timeout", 5*time.Second, "with --connect: how long each check may take")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return usagef(fs.Name(), "--config is required")
	}
	if *timeout <= 0 {
		return usagef(fs.Name(), "--timeout must be positive")
	}
	cfg, err := config.Load(*path)
	var problems config.Problems
	switch {
	case errors.As(err, &problems):
		for _, p := range problems {
			fmt.Fprintln(c.stdout, p.String())
		}
		return reported{}
	case err != nil:
		fmt.Fprintf(c.stdout, "%s:1: %s\n", *path, oneLine(err.Error()))
		return reported{}
	}
	if ps := checkUI(cfg); len(ps) > 0 {
		for _, p := range ps {
			fmt.Fprintln(c.stdout, p.String())
		}
		return reported{}
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(c.stderr, "warning: "+w.String())
	}
	if *connect {
		failed := 0
		for _, r := range connectChecks(ctx, cfg, *timeout) {
			if r.err != nil {
				failed++
				fmt.Fprintf(c.stdout, "%s: FAILED: %s\n", r.what, oneLine(r.err.Error()))
				continue
			}
			fmt.Fprintf(c.stdout, "%s: ok, %s\n", r.what, r.detail)
		}
		if failed > 0 {
			fmt.Fprintf(c.stderr, "%s: valid, but %d of the checks failed\n", *path, failed)
			return reported{}
		}
	}
	fmt.Fprintf(c.stderr, "%s: ok\n", *path)
	return nil
}

// checkResult is one line of check-config --connect.
type checkResult struct {
	what   string // "store redis 127.0.0.1:6379", "provider kakao"
	detail string
	err    error
}

// connectChecks runs every check at once, each bounded by timeout, and
// returns them in a stable order: store, providers, bearer issuers,
// upstreams.
func connectChecks(ctx context.Context, cfg *config.Config, timeout time.Duration) []checkResult {
	var checks []func(context.Context) checkResult
	checks = append(checks, func(ctx context.Context) checkResult { return checkStore(ctx, cfg) })
	provs, err := newProviders(cfg)
	if err != nil {
		checks = append(checks, func(context.Context) checkResult { return checkResult{what: "providers", err: err} })
	}
	for _, p := range provs {
		checks = append(checks, func(ctx context.Context) checkResult { return checkProvider(ctx, p, timeout) })
	}
	checks = append(checks, bearerChecks(cfg)...)
	for _, u := range cfg.Upstreams {
		if u.URL != "" {
			checks = append(checks, func(ctx context.Context) checkResult { return checkUpstream(ctx, u) })
		}
	}
	out := make([]checkResult, len(checks))
	var wg sync.WaitGroup
	for i, check := range checks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			out[i] = check(ctx)
		})
	}
	wg.Wait()
	return out
}

func checkStore(ctx context.Context, cfg *config.Config) checkResult {
	if cfg.Session.Store != config.StoreRedis {
		return checkResult{what: "store memory", detail: "in-process, nothing to connect to"}
	}
	r := checkResult{what: fmt.Sprintf("store redis %v", cfg.Session.Redis.Addrs)}
	if cfg.Session.Redis.MasterName != "" {
		r.what = fmt.Sprintf("store redis sentinel %q via %v", cfg.Session.Redis.MasterName, cfg.Session.Redis.Addrs)
	}
	store, err := newStore(cfg)
	if err != nil {
		r.err = err
		return r
	}
	defer store.Close()
	start := time.Now()
	if r.err = store.Ping(ctx); r.err == nil {
		r.detail = "answered PING in " + since(start)
	}
	return r
}

// authURLer is what the provider check needs of a provider.
type authURLer interface {
	Name() string
	Kind() string
	NewAuthRequest() providers.AuthRequest
	AuthURLContext(ctx context.Context, a providers.AuthRequest) (string, error)
}

// checkProvider resolves the provider's authorization URL, which runs its
// OpenID discovery when its endpoints come from an issuer, then asks that
// URL as a browser would. Any answer below 500 means the provider is there;
// whether the client ID is accepted shows only on a real login.
func checkProvider(ctx context.Context, p authURLer, timeout time.Duration) checkResult {
	r := checkResult{what: fmt.Sprintf("provider %s (%s)", p.Name(), p.Kind())}
	start := time.Now()
	raw, err := p.AuthURLContext(ctx, p.NewAuthRequest())
	if err != nil { // only discovery can fail here, and its error says so
		r.err = err
		return r
	}
	u, err := url.Parse(raw)
	if err != nil {
		r.err = err
		return r
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		r.err = err
		return r
	}
	client := &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Do(req)
	endpoint := u.Scheme + "://" + u.Host + u.Path
	if err != nil {
		// The URL carries a fresh state and the client ID, nothing secret,
		// but the endpoint alone reads better.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		r.err = fmt.Errorf("authorization endpoint %s: %w", endpoint, err)
		return r
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		r.err = fmt.Errorf("authorization endpoint %s answered %s", endpoint, resp.Status)
		return r
	}
	r.detail = fmt.Sprintf("authorization endpoint %s answered %d in %s", endpoint, resp.StatusCode, since(start))
	return r
}

// checkUpstream dials the upstream: a TCP connection is all the gateway
// needs to know it is there; what the app answers is the app's business.
func checkUpstream(ctx context.Context, up config.Upstream) checkResult {
	r := checkResult{what: "upstream " + up.Name}
	u, err := url.Parse(up.URL)
	if err != nil {
		r.err = err
		return r
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		r.err = err
		return r
	}
	conn.Close()
	r.detail = fmt.Sprintf("%s accepted a connection in %s", host, since(start))
	return r
}

func since(t time.Time) string {
	return time.Since(t).Round(100 * time.Microsecond).String()
}
