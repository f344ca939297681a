package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/socialgate/socialgate/bearer"
	"github.com/socialgate/socialgate/config"
	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/proxy"
	"github.com/socialgate/socialgate/session"
)

// gateway is a configured proxy.Server (swapped at reload, see serve.go)
// and what outlives a reload: the session manager and store, and the
// metrics registry.
type gateway struct {
	liveServers
	sessions *session.Manager
	store    session.Store
	registry *prometheus.Registry
}

// Close stops the session cache's invalidation link, then the store.
func (g *gateway) Close() error {
	_ = g.sessions.Close()
	return g.store.Close()
}

// newGateway turns a valid config into the packages' Options.
func newGateway(cfg *config.Config, log *slog.Logger) (*gateway, error) {
	// The pages first: a broken template must not cost a store connection.
	if ps := checkUI(cfg); len(ps) > 0 {
		return nil, ps
	}
	store, err := newStore(cfg)
	if err != nil {
		return nil, err
	}
	mgr, err := newManager(cfg, store)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	srv, err := newServer(cfg, mgr, log, reg)
	if err != nil {
		_ = mgr.Close()
		_ = store.Close()
		return nil, err
	}
	g := &gateway{sessions: mgr, store: store, registry: reg}
	g.swap(&live{srv: srv, cfg: cfg})
	return g, nil
}

// checkUI reports, with the lines of their keys, what the gateway would
// refuse in ui: a logo that is not a PNG or a script-free SVG, templates
// that do not parse or fail to render their page. config cannot judge
// these (only proxy knows its templates), so check-config and start both
// ask here.
func checkUI(cfg *config.Config) config.Problems {
	var ps config.Problems
	if len(cfg.UI.Logo) > 0 {
		if _, err := proxy.CheckLogo(cfg.UI.Logo); err != nil {
			ps = append(ps, cfg.ProblemAt("ui.logo_file", err.Error()))
		}
	}
	if cfg.UI.TemplatesDir != "" {
		if err := proxy.CheckTemplates(cfg.UI.TemplatesDir); err != nil {
			ps = append(ps, cfg.ProblemAt("ui.templates_dir", err.Error()))
		}
	}
	return ps
}

// newManager applies the session rules of cfg to store. With
// session.cache_ttl set, replicas keep recently used sessions in memory and
// hear sign-outs and revocations from each other through the store.
func newManager(cfg *config.Config, store session.Store) (*session.Manager, error) {
	return session.NewManager(session.ManagerOptions{
		Store:         store,
		Lifetime:      cfg.Session.Lifetime,
		IdleTimeout:   cfg.Session.IdleTimeout,
		TouchInterval: cfg.Session.TouchInterval,
		CacheTTL:      cfg.Session.CacheTTL,

		PendingLoginBytes:       int64(cfg.Session.PendingLoginsMaxBytes),
		ClientPendingLoginBytes: int64(cfg.Session.PendingLoginsMaxBytesPerClient),
		Accounts: session.AccountsOptions{
			Enabled:     cfg.Accounts.Enabled,
			LinkByEmail: cfg.Accounts.LinkByEmail,
			File:        cfg.Accounts.File,
		},
	})
}

// newServer builds the proxy.Server for cfg; at a reload, with the running
// manager and registry.
func newServer(cfg *config.Config, mgr *session.Manager, log *slog.Logger, reg *prometheus.Registry) (*proxy.Server, error) {
	cookies, err := newCookies(cfg)
	if err != nil {
		return nil, err
	}
	provs, err := newProviders(cfg)
	if err != nil {
		return nil, err
	}
	routes, err := newRoutes(cfg)
	if err != nil {
		return nil, err
	}
	verifier, err := newBearer(cfg)
	if err != nil {
		return nil, err
	}
	s := cfg.Server
	return proxy.New(proxy.Options{
		PublicURL:            s.PublicURL,
		TrustedProxies:       s.TrustedProxies,
		StripHeaders:         s.StripHeaders,
		MetricsElsewhere:     s.MetricsListen != "",
		Providers:            provs,
		Sessions:             mgr,
		Cookies:              cookies,
		Routes:               routes,
		Bearer:               verifier,
		AllowedHosts:         cfg.Redirects.AllowedHosts,
		Logger:               log,
		Registry:             reg,
		StreamWriteTimeout:   s.WriteTimeout,
		ReplayMaxBytes:       int64(cfg.Login.ReplayMaxBytes),
		ProviderTimeout:      s.ProviderTimeout,
		RefreshBefore:        cfg.Session.RefreshBefore,
		RevokeProviderTokens: cfg.Session.RevokeProviderTokens,
		UI: proxy.UIOptions{
			AppName:      cfg.UI.AppName,
			Logo:         cfg.UI.Logo,
			TemplatesDir: cfg.UI.TemplatesDir,
		},
	})
}

func newCookies(cfg *config.Config) (*session.Cookies, error) {
	c := cfg.Cookie
	return session.NewCookies(session.CookieOptions{
		Name:            c.Name,
		Secret:          []byte(c.Secret),
		PreviousSecrets: previousSecrets(cfg),
		Domain:          c.Domain,
		Secure:          c.Secure,
		SameSite:        c.SameSite,
		MaxAge:          cfg.Session.Lifetime,
	})
}

func newStore(cfg *config.Config) (session.Store, error) {
	if cfg.Session.Store != config.StoreRedis {
		return session.NewMemory(session.MemoryOptions{}), nil
	}
	r := cfg.Session.Redis
	var tlsConf *tls.Config
	if r.TLS.Enabled {
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: r.TLS.InsecureSkipVerify} //nolint:gosec // operator's explicit choice
		if r.TLS.CAFile != "" {
			pem, err := os.ReadFile(r.TLS.CAFile)
			if err != nil {
				return nil, fmt.Errorf("redis tls: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, errors.New("redis tls: no certificate in ca_file")
			}
			tlsConf.RootCAs = pool
		}
	}
	return session.NewRedis(session.RedisOptions{
		Addrs:            r.Addrs,
		MasterName:       r.MasterName,
		Username:         r.Username,
		Password:         r.Password,
		SentinelUsername: r.SentinelUsername,
		SentinelPassword: r.SentinelPassword,
		DB:               r.DB,
		KeyPrefix:        r.KeyPrefix,
		TLS:              tlsConf,
		PoolSize:         r.PoolSize,
		DialTimeout:      r.DialTimeout,
		ReadTimeout:      r.ReadTimeout,
		WriteTimeout:     r.WriteTimeout,
		Secret:           []byte(cfg.Cookie.Secret),
		PreviousSecrets:  previousSecrets(cfg),
	})
}

// previousSecrets are the cookie secrets before a rotation: they still
// verify cookies and open sealed sessions, and are never used to write.
func previousSecrets(cfg *config.Config) [][]byte {
	var prev [][]byte
	for _, p := range cfg.Cookie.PreviousSecrets {
		prev = append(prev, []byte(p))
	}
	return prev
}

func newProviders(cfg *config.Config) ([]proxy.Provider, error) {
	var out []proxy.Provider
	for _, p := range cfg.Providers {
		ep := p.Endpoints
		prov, err := providers.New(providers.Options{
			Name:         p.Name,
			Kind:         p.Kind,
			DisplayName:  p.DisplayName,
			ClientID:     p.ClientID,
			ClientSecret: p.ClientSecret,
			Scopes:       p.Scopes,
			RedirectURL:  cfg.Server.PublicURL + "/oauth2/callback/" + p.Name,
			Endpoints: providers.Endpoints{
				AuthURL: ep.AuthURL, TokenURL: ep.TokenURL, UserinfoURL: ep.UserinfoURL,
				Issuer: ep.Issuer, JWKSURL: ep.JWKSURL, RevokeURL: ep.RevokeURL,
				EndSessionURL: ep.EndSessionURL,
			},
			TrustEmail: p.TrustEmail,
			OIDC:       p.OIDC,
			AutoLogin:  p.AutoLogin,
			Claims: providers.Claims{Subject: p.Claims.Subject, Email: p.Claims.Email,
				EmailVerified: p.Claims.EmailVerified, Name: p.Claims.Name, Picture: p.Claims.Picture},
			Logout:   p.Logout,
			AdminKey: p.AdminKey,
			Timeout:  cfg.Server.ProviderTimeout,
		})
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", p.Name, err)
		}
		out = append(out, prov)
	}
	return out, nil
}

func newRoutes(cfg *config.Config) ([]proxy.Route, error) {
	var out []proxy.Route
	for _, u := range cfg.Upstreams {
		var target *url.URL // none: forward-auth only
		if u.URL != "" {
			var err error
			if target, err = url.Parse(u.URL); err != nil {
				return nil, fmt.Errorf("upstream %s: %w", u.Name, err)
			}
		}
		out = append(out, proxy.Route{
			Name:   u.Name,
			Host:   u.Host,
			Path:   u.Path,
			URL:    target,
			Public: u.Auth == config.AuthPublic,
			Allow: proxy.Allow{
				Providers:    u.Allow.Providers,
				Emails:       u.Allow.Emails,
				EmailDomains: u.Allow.EmailDomains,
				Users:        u.Allow.Users,
				Scopes:       u.Allow.Scopes,
				Clients:      u.Allow.Clients,
			},
			HeaderEncoding:  u.HeaderEncoding,
			PassAccessToken: u.PassAccessToken,
			PreserveHost:    u.PreserveHost,
			Bearer:          bearerAudiences(u.Bearer),
		})
	}
	return out, nil
}

func bearerAudiences(b config.Bearer) []bearer.Audience {
	var out []bearer.Audience
	for _, is := range b.Issuers {
		out = append(out, bearer.Audience{Issuer: is.Issuer, Audiences: is.Audiences})
	}
	return out
}

// newBearer is the one verifier of machine clients' tokens for every
// upstream (one JWKS per issuer, one token cache); nil when no upstream
// accepts bearer tokens. config made sure an issuer has one jwks_url.
func newBearer(cfg *config.Config) (*bearer.Verifier, error) {
	var issuers []bearer.Issuer
	seen := map[string]bool{}
	for _, u := range cfg.Upstreams {
		for _, is := range u.Bearer.Issuers {
			if !seen[is.Issuer] {
				seen[is.Issuer] = true
				issuers = append(issuers, bearer.Issuer{Issuer: is.Issuer, JWKSURL: is.JWKSURL})
			}
		}
	}
	if len(issuers) == 0 {
		return nil, nil
	}
	return bearer.New(bearer.Options{Issuers: issuers, Timeout: cfg.Server.ProviderTimeout})
}
