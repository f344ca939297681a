// Package config reads socialgate's YAML configuration file: the schema,
// ${VAR} expansion, *_file secrets, defaults and validation.
//
// Loading is strict and thorough: an unknown key is an error, and every
// problem in the file is reported at once, each with its line and key path
// ("config.yaml:12: upstreams[0].url: is required"). Only cmd imports this
// package; it turns a Config into each package's Options.
//
// Rules that hold for every key:
//   - "${NAME}" in any value is replaced by the environment variable NAME
//     (unset is an error); "$$" is a literal "$"; any other "$" stays as is.
//   - A null or empty value ("", or a ${VAR} that expands to "") means the
//     same as leaving the key out: the default applies.
//   - Every secret also has a *_file form, read from a file (one trailing
//     newline dropped; relative names are relative to the configuration
//     file). Setting both forms is an error.
//   - Durations are Go durations: "30s", "15m", "168h".
//   - Host names are stored lower-case and in ASCII: a Hangul domain such as
//     "한국.example" becomes "xn--3e0b707e.example", which is what browsers
//     send in the Host header.
package config

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"time"
)

// Config is a valid configuration: defaults applied, variables expanded,
// secret files read.
type Config struct {
	Server  Server
	Cookie  Cookie
	Session Session
	// Providers holds the configured providers in the order they appear in
	// the file, which is the order of the sign-in page's buttons.
	Providers []Provider
	Redirects Redirects
	// Upstreams in file order. At least one.
	Upstreams []Upstream
	Log       Log
	Accounts  Accounts
	UI        UI
	Login     Login

	warnings []Problem
	// lines are the keys' lines, for ProblemAt.
	lines map[string]int
	file  string
}

// Server is how the gateway listens and how browsers reach it.
type Server struct {
	// Listen is the address to listen on. Default ":4180".
	Listen string
	// PublicURL is the URL browsers use to reach the gateway: scheme, host
	// and port only, without a trailing slash and without the scheme's
	// default port, such as "https://gate.example.com". Required.
	PublicURL string
	// TrustedProxies are the networks whose X-Forwarded-* headers are
	// believed; a single IP becomes a /32 or /128. Empty: none.
	TrustedProxies []netip.Prefix
	// ReadHeaderTimeout defaults to 10s and is never zero.
	ReadHeaderTimeout time.Duration
	// ReadTimeout defaults to 30s; zero means none.
	ReadTimeout time.Duration
	// WriteTimeout defaults to 60s; zero means none.
	WriteTimeout time.Duration
	// IdleTimeout defaults to 120s; zero means none.
	IdleTimeout time.Duration
	// MaxHeaderBytes defaults to 64 KiB.
	MaxHeaderBytes int
	// ShutdownTimeout is how long a graceful shutdown waits for requests in
	// flight. Default 15s; zero means do not wait.
	ShutdownTimeout time.Duration
	// ProviderTimeout bounds each call to a provider (token, profile,
	// refresh, revoke). Default 10s.
	ProviderTimeout time.Duration
	// StripHeaders are request headers removed before any upstream, on
	// top of the built-in list: "X-Corp-User" for one name, "X-Corp-*"
	// for every name with that prefix. Case and '_' do not matter.
	StripHeaders []string
	// MetricsListen, when set ("127.0.0.1:9090"), serves /metrics on its
	// own listener. Empty: /metrics on the main listener, answered only to
	// loopback and trusted_proxies peers.
	MetricsListen string
}

// Cookie configures the session cookie.
type Cookie struct {
	// Name defaults to "_socialgate". The session package adds the "__Host-"
	// prefix itself when the cookie is secure and has no domain.
	Name string
	// Secret signs cookies; at least 32 bytes. Required.
	Secret string
	// PreviousSecrets still verify cookies signed before a secret rotation.
	PreviousSecrets []string
	// Domain is empty (the cookie is sent to the gateway's host only) or a
	// domain such as ".example.com" that covers the public URL's host.
	Domain string
	// Secure defaults to true when PublicURL is https, false when http.
	Secure bool
	// SameSite is http.SameSiteLaxMode (default), StrictMode or NoneMode.
	SameSite http.SameSite
}

// Session store kinds.
const (
	StoreMemory = "memory"
	StoreRedis  = "redis"
)

// Session configures session lifetime and storage.
type Session struct {
	// Store is StoreMemory (default) or StoreRedis.
	Store string
	// Lifetime is the absolute lifetime of a session. Default 168h.
	Lifetime time.Duration
	// IdleTimeout ends a session unused for this long; at most Lifetime.
	// Default 24h, or Lifetime when that is shorter.
	IdleTimeout time.Duration
	// TouchInterval is how often use of a session is written back to the
	// store. Default 1m (or half of IdleTimeout when that is shorter).
	TouchInterval time.Duration
	// CacheTTL is how long a replica may cache a session locally. Default
	// 5s with the Redis store (sign-outs still reach every replica within
	// 1s over pub/sub), none with the memory store. Zero turns it off.
	CacheTTL time.Duration
	// RefreshBefore refreshes a provider access token this long before it
	// expires, when the provider issued a refresh token. Default 1m.
	RefreshBefore time.Duration
	// RevokeProviderTokens revokes the provider's tokens at sign-out (in
	// the background; sign-out never waits for the provider). Default false.
	RevokeProviderTokens bool
	// PendingLoginsMaxBytes bounds the bytes of every login started and not
	// yet finished (all replicas together on Redis); past it
	// /oauth2/start answers 503. Default 64 MiB.
	PendingLoginsMaxBytes int
	// PendingLoginsMaxBytesPerClient bounds one client's (one IPv4 address,
	// one IPv6 /64); past it /oauth2/start answers 429. Each login counts at
	// least 8 KiB. Default PendingLoginsMaxBytes/16.
	PendingLoginsMaxBytesPerClient int
	// Redis is used when Store is StoreRedis.
	Redis Redis
}

// Redis configures the Redis store. One address is a standalone server;
// several are a cluster; with MasterName they are Sentinels.
type Redis struct {
	// Addrs are host:port pairs. Default ["127.0.0.1:6379"] when the store
	// is Redis.
	Addrs            []string
	MasterName       string
	Username         string
	Password         string
	SentinelUsername string
	SentinelPassword string
	// DB is the database number; always 0 for a cluster.
	DB int
	// KeyPrefix starts every key. Default "socialgate:".
	KeyPrefix string
	TLS       RedisTLS
	// PoolSize zero means go-redis's default.
	PoolSize int
	// DialTimeout defaults to 2s, ReadTimeout and WriteTimeout to 1s.
	DialTimeout  time.Duration
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
}

// RedisTLS configures TLS to Redis.
type RedisTLS struct {
	Enabled bool
	// CAFile is a PEM file of CAs to trust instead of the system's; it has
	// been checked to hold at least one certificate.
	CAFile             string
	InsecureSkipVerify bool
}

// Provider is one configured provider instance.
type Provider struct {
	// Name is the instance id, the key under providers ("google", "corp"):
	// it names the instance in routes, user keys and allow lists.
	Name string
	// Kind is the provider kind (providers.Kinds): the kind key, or the
	// id when the id names a kind.
	Kind string
	// DisplayName is the button label; empty means the kind's name.
	DisplayName  string
	ClientID     string
	ClientSecret string
	// Scopes empty means the provider's defaults.
	Scopes    []string
	Endpoints Endpoints
	// TrustEmail (naver only) treats Naver's e-mail as verified.
	TrustEmail bool
	// OIDC (kakao only) uses OpenID Connect with a verified id_token.
	OIDC bool
	// Logout: sign-out continues at the provider (OIDC end_session_endpoint,
	// Kakao's account logout). Not naver.
	Logout bool
	// AdminKey (kakao only) is the app's Admin key; it verifies Kakao's
	// unlink callback at /oauth2/unlink/kakao.
	AdminKey string
	// AutoLogin (kakao only): inside KakaoTalk's in-app browser the sign-in
	// page first tries Kakao with prompt=none, and shows the buttons only
	// when Kakao answers login_required or consent_required.
	AutoLogin bool
	// Claims (kind oidc) names the claims the identity is read from; an
	// empty field is the standard claim.
	Claims Claims
}

// Claims name the claims of a generic OpenID Connect provider.
type Claims struct {
	Subject, Email, EmailVerified, Name, Picture string
}

// Endpoints override a provider's real URLs; an empty field keeps the real one.
type Endpoints struct {
	AuthURL     string
	TokenURL    string
	UserinfoURL string
	Issuer      string
	JWKSURL     string
	RevokeURL   string
	// EndSessionURL overrides the logout page (discovered for OIDC).
	EndSessionURL string
}

// Redirects configures where the browser may land after signing in.
type Redirects struct {
	// AllowedHosts are extra hosts for the post-login redirect, each a
	// host with an optional ":port"; a leading "." matches the domain and
	// all its subdomains.
	AllowedHosts []string
}

// Upstream authentication modes.
const (
	AuthRequired = "required"
	AuthPublic   = "public"
)

// Header encodings for non-ASCII identity values.
const (
	EncodingPercent = "percent"
	EncodingRaw     = "raw"
	EncodingBase64  = "base64"
	EncodingEUCKR   = "euc-kr"
)

// Upstream is one app behind the gateway.
type Upstream struct {
	// Name is unique among upstreams.
	Name string
	// Host is an optional Host match (lower-case ASCII, optional ":port");
	// empty matches any host.
	Host string
	// Path is the path prefix this upstream serves. Default "/".
	Path string
	// URL is where requests go: an absolute http or https URL. Empty: the
	// upstream only answers forward-auth decisions (/oauth2/auth).
	URL string
	// Auth is AuthRequired (default) or AuthPublic.
	Auth  string
	Allow Allow
	// HeaderEncoding is EncodingPercent (default), EncodingRaw,
	// EncodingBase64 or EncodingEUCKR.
	HeaderEncoding string
	// PassAccessToken sends the provider's access token upstream in
	// X-Forwarded-Access-Token.
	PassAccessToken bool
	// PreserveHost sends the client's Host header upstream instead of the
	// URL's host.
	PreserveHost bool
	// Bearer accepts JWT access tokens of machine clients; zero: refused.
	Bearer Bearer
}

// Allow limits who may use an upstream. All empty: any signed-in user.
type Allow struct {
	// Providers are configured provider names.
	Providers []string
	// Emails are lower-cased e-mail addresses.
	Emails []string
	// EmailDomains are lower-cased ASCII domains, such as "example.com".
	EmailDomains []string
	// Users are "provider:subject" keys, such as "kakao:3456789012".
	Users []string
	// Scopes a bearer token must all grant; Clients, when set, the client
	// ids allowed. Both apply to bearer tokens only, never to sessions.
	Scopes  []string
	Clients []string
}

// Log configures logging.
type Log struct {
	// Level defaults to slog.LevelInfo.
	Level slog.Level
}

// Provider returns the configured provider with that name.
func (c *Config) Provider(name string) (Provider, bool) {
	i := slices.IndexFunc(c.Providers, func(p Provider) bool { return p.Name == name })
	if i < 0 {
		return Provider{}, false
	}
	return c.Providers[i], true
}

// Warnings lists settings that are valid but risky in production, such as
// plain http on a public host or a memory store, ordered by line.
func (c *Config) Warnings() []Problem {
	return slices.Clone(c.warnings)
}

// ProblemAt is a Problem with key path at that key's line, for what is
// checked outside this package: the gateway's templates and logo, which
// only the proxy can judge, are reported like every other problem.
func (c *Config) ProblemAt(path, msg string) Problem {
	d := &decoder{lines: c.lines}
	return Problem{File: c.file, Line: d.line(path), Path: path, Msg: msg}
}

// Load reads and parses the file at path, expanding variables from the
// process environment. When the file is invalid the error is a Problems;
// when it cannot be read at all, the error wraps the os error instead.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse parses data as the configuration file named file (used in
// problems and to resolve relative *_file names). lookupEnv expands
// ${VAR}; nil means os.LookupEnv. When the configuration is invalid, the
// error is a Problems listing every problem.
func Parse(file string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	d := newDecoder(file, lookupEnv)
	root := d.parse(data)
	if len(d.problems) > 0 {
		return nil, Problems(d.problems)
	}
	var c Config
	if d.root(root, &c) {
		d.validate(&c)
	}
	if len(d.problems) > 0 {
		sortByLine(d.problems)
		return nil, Problems(d.problems)
	}
	c.warnings = d.warnings(&c)
	sortByLine(c.warnings)
	c.lines, c.file = maps.Clone(d.lines), file
	return &c, nil
}
