package config

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"testing"
	"time"
)

// TestExampleConfig keeps config.example.yaml valid and in step with the
// schema: it is loaded with exactly the variables its header documents.
func TestExampleConfig(t *testing.T) {
	t.Setenv("SOCIALGATE_COOKIE_SECRET", secret32)
	t.Setenv("GOOGLE_CLIENT_ID", "1234-abc.apps.googleusercontent.com")
	t.Setenv("GOOGLE_CLIENT_SECRET", "google-secret")
	t.Setenv("NAVER_CLIENT_ID", "naver-id")
	t.Setenv("NAVER_CLIENT_SECRET", "naver-secret")
	t.Setenv("KAKAO_REST_API_KEY", "kakao-rest-key")
	t.Setenv("KAKAO_CLIENT_SECRET", "")
	t.Setenv("REDIS_PASSWORD", "")
	c, err := Load(filepath.Join("..", "config.example.yaml"))
	if err != nil {
		t.Fatalf("Load(config.example.yaml): %v", err)
	}
	if got, want := c.Server.PublicURL, "https://gate.example.com"; got != want {
		t.Errorf("public_url: got %q, want %q", got, want)
	}
	if c.Cookie.Secret != secret32 { // never printed: it is a secret
		t.Errorf("cookie secret: got a value other than SOCIALGATE_COOKIE_SECRET's")
	}
	var names []string
	for _, p := range c.Providers {
		names = append(names, p.Name)
	}
	if want := []string{"google", "naver", "kakao"}; !slices.Equal(names, want) {
		t.Errorf("providers: got %q, want %q", names, want)
	}
	if k, _ := c.Provider("kakao"); k.ClientID != "kakao-rest-key" || k.ClientSecret != "" {
		t.Errorf("kakao: got client_id %q and a secret of %d bytes, want kakao-rest-key and none", k.ClientID, len(k.ClientSecret))
	}
	if got, want := c.Session.Store, StoreRedis; got != want {
		t.Errorf("session.store: got %q, want %q", got, want)
	}
	if len(c.Upstreams) != 3 || c.Upstreams[0].Name != "wiki" || c.Upstreams[1].Auth != AuthPublic ||
		len(c.Upstreams[2].Bearer.Issuers) != 1 {
		t.Errorf("upstreams: got %+v, want wiki, a public status route and a bearer api", c.Upstreams)
	}
	if ws := c.Warnings(); len(ws) != 0 {
		t.Errorf("warnings for the example: got %v, want none", ws)
	}
}

// TestExampleShowsEveryKey decodes the example while collecting the keys
// each mapping allows, and checks that each one is written somewhere.
func TestExampleShowsEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d := newDecoder("config.example.yaml", env(nil))
	d.schema = map[string][]string{}
	d.root(d.parse(data), &Config{})
	// Providers and list entries differ in which keys apply, so compare
	// the shape of paths: "providers.*.oidc", "upstreams[].allow".
	shape := func(p string) string {
		p = regexp.MustCompile(`\[\d+\]`).ReplaceAllString(p, "[]")
		return regexp.MustCompile(`^providers\.[a-z0-9_-]+`).ReplaceAllString(p, "providers.*")
	}
	written := map[string]bool{}
	for p := range d.lines {
		written[shape(p)] = true
	}
	for path, keys := range d.schema {
		for _, k := range keys {
			if p := shape(joinPath(path, k)); !written[p] {
				t.Errorf("config.example.yaml does not show %s", p)
			}
		}
	}
	if len(d.schema) < 10 {
		t.Errorf("collected %d mappings, want every section and sub-section", len(d.schema))
	}
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, "")
	want := Config{
		Server: Server{
			Listen: ":4180", PublicURL: "https://gate.example.com",
			ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
			MaxHeaderBytes: 65536, ShutdownTimeout: 15 * time.Second,
			ProviderTimeout: 10 * time.Second,
		},
		Cookie: Cookie{Name: "_socialgate", Secret: secret32, Secure: true, SameSite: http.SameSiteLaxMode},
		Session: Session{
			Store: StoreMemory, Lifetime: 168 * time.Hour, IdleTimeout: 24 * time.Hour,
			TouchInterval: time.Minute, RefreshBefore: time.Minute,
			PendingLoginsMaxBytes: 64 << 20, PendingLoginsMaxBytesPerClient: 4 << 20,
			Redis: Redis{
				KeyPrefix: "socialgate:", DialTimeout: 2 * time.Second,
				ReadTimeout: time.Second, WriteTimeout: time.Second,
			},
		},
		Providers: []Provider{{Name: "google", Kind: "google", ClientID: "g", ClientSecret: "gs"}},
		Upstreams: []Upstream{{
			Name: "app", Path: "/", URL: "http://127.0.0.1:8080",
			Auth: AuthRequired, HeaderEncoding: EncodingPercent,
		}},
		Log:   Log{Level: slog.LevelInfo},
		Login: Login{ReplayMaxBytes: 1 << 20},
	}
	c.warnings, c.lines, c.file = nil, nil, ""
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("defaults:\ngot  %+v\nwant %+v", *c, want)
	}
}

func TestRedisDefaults(t *testing.T) {
	c := mustParse(t, "session:\n  store: redis\n  lifetime: 2h\n")
	s := c.Session
	if !slices.Equal(s.Redis.Addrs, []string{"127.0.0.1:6379"}) {
		t.Errorf("redis addrs: got %q, want [127.0.0.1:6379]", s.Redis.Addrs)
	}
	// idle_timeout follows a short lifetime instead of failing on its default.
	if s.IdleTimeout != 2*time.Hour || s.TouchInterval != time.Minute {
		t.Errorf("got idle_timeout %v and touch_interval %v, want 2h and 1m", s.IdleTimeout, s.TouchInterval)
	}
	c = mustParse(t, "session:\n  idle_timeout: 1m\n")
	if got, want := c.Session.TouchInterval, 30*time.Second; got != want {
		t.Errorf("touch_interval with a 1m idle_timeout: got %v, want %v", got, want)
	}
}

func TestCookieSecureDefault(t *testing.T) {
	tests := []struct {
		name       string
		head       string
		wantSecure bool
		wantWarn   string
	}{
		{"https", "server:\n  public_url: https://gate.example.com\n", true, ""},
		{"http loopback", "server:\n  public_url: http://127.0.0.1:4180\n", false, ""},
		{"explicit false with https", "server:\n  public_url: https://gate.example.com\ncookie:\n  secret: " + secret32 + "\n  secure: false\n",
			false, "c.yaml:5: cookie.secure: false with an https public_url: browsers may send the session cookie over plain http"},
		{"explicit true with http", "server:\n  public_url: http://localhost:4180\ncookie:\n  secret: " + secret32 + "\n  secure: true\n", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, tc.head)
			if c.Cookie.Secure != tc.wantSecure {
				t.Errorf("cookie.secure: got %v, want %v", c.Cookie.Secure, tc.wantSecure)
			}
			var got []string
			for _, w := range c.Warnings() {
				if w.Path == "cookie.secure" {
					got = append(got, w.String())
				}
			}
			if tc.wantWarn == "" && len(got) > 0 || tc.wantWarn != "" && !slices.Equal(got, []string{tc.wantWarn}) {
				t.Errorf("cookie.secure warnings: got %q, want %q", got, tc.wantWarn)
			}
		})
	}
}

func TestProviderOrder(t *testing.T) {
	c := mustParse(t, "providers:\n  kakao:\n    client_id: k\n  naver:\n    client_id: n\n    client_secret: s\n  google:\n    client_id: g\n    client_secret: s\n")
	var got []string
	for _, p := range c.Providers {
		got = append(got, p.Name)
	}
	if want := []string{"kakao", "naver", "google"}; !slices.Equal(got, want) {
		t.Errorf("provider order: got %q, want %q", got, want)
	}
	if _, ok := c.Provider("naver"); !ok {
		t.Errorf("Provider(naver): got not found, want found")
	}
	if _, ok := c.Provider("github"); ok {
		t.Errorf("Provider(github): got found, want not found")
	}
}

func TestNormalization(t *testing.T) {
	c := mustParse(t, "server:\n"+
		"  public_url: https://게이트.Example.com:443/\n"+
		"  trusted_proxies: [10.1.2.3/8, 192.168.0.1, '::1']\n"+
		"cookie:\n"+
		"  secret: "+secret32+"\n"+
		"  domain: .EXAMPLE.com\n"+
		"redirects:\n"+
		"  allowed_hosts: [.한국.example.com, 'App.Example.com:8443', '[::1]:8080']\n"+
		"upstreams:\n"+
		"  - name: 위키\n"+
		"    host: 위키.example.com\n"+
		"    path: /위키\n"+
		"    url: http://127.0.0.1:1\n"+
		"    allow:\n"+
		"      emails: [Hong@Example.COM]\n"+
		"      email_domains: [Example.com]\n")
	checks := []struct {
		name      string
		got, want any
	}{
		{"public_url", c.Server.PublicURL, "https://xn--o79a732ch4h.example.com"},
		{"cookie domain", c.Cookie.Domain, ".example.com"},
		{"allowed subdomains", c.Redirects.AllowedHosts[0], ".xn--3e0b707e.example.com"},
		{"allowed host with port", c.Redirects.AllowedHosts[1], "app.example.com:8443"},
		{"allowed IPv6", c.Redirects.AllowedHosts[2], "[::1]:8080"},
		{"upstream host", c.Upstreams[0].Host, "xn--9q5b29o.example.com"},
		{"upstream name", c.Upstreams[0].Name, "위키"},
		{"upstream path", c.Upstreams[0].Path, "/위키"},
		{"email", c.Upstreams[0].Allow.Emails[0], "hong@example.com"},
		{"email domain", c.Upstreams[0].Allow.EmailDomains[0], "example.com"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	wantProxies := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.168.0.1/32"),
		netip.MustParsePrefix("::1/128"),
	}
	if !slices.Equal(c.Server.TrustedProxies, wantProxies) {
		t.Errorf("trusted_proxies: got %v, want %v", c.Server.TrustedProxies, wantProxies)
	}
}

func TestPublicURLPorts(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://gate.example.com", "https://gate.example.com"},
		{"https://gate.example.com/", "https://gate.example.com"},
		{"http://gate.example.com:80", "http://gate.example.com"},
		{"https://gate.example.com:80", "https://gate.example.com:80"},
		{"http://127.0.0.1:4180", "http://127.0.0.1:4180"},
		{"HTTP://[::1]:4180", "http://[::1]:4180"},
	}
	for _, tc := range tests {
		c := mustParse(t, "server:\n  public_url: '"+tc.in+"'\n")
		if c.Server.PublicURL != tc.want {
			t.Errorf("public_url %q: got %q, want %q", tc.in, c.Server.PublicURL, tc.want)
		}
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		head string
		want []string
	}{
		{"production setup", "session:\n  store: redis\n", nil},
		{"memory store", "session:\n  store: memory\n",
			[]string{"c.yaml:2: session.store: memory keeps sessions in this process only: they end on restart and are not shared between replicas"}},
		{"redis settings with memory store", "session:\n  redis:\n    addrs: [a:1]\n", []string{
			"c.yaml:1: session.store: memory keeps sessions in this process only: they end on restart and are not shared between replicas",
			"c.yaml:2: session.redis: is ignored: session.store is memory",
		}},
		{"http on a public host", "session: {store: redis}\nserver:\n  public_url: http://gate.example.com\n", []string{
			"c.yaml:3: server.public_url: plain http on a non-loopback host: cookies and sign-ins travel unencrypted",
		}},
		{"trust everyone", "session: {store: redis}\nserver:\n  public_url: https://gate.example.com\n  trusted_proxies: [0.0.0.0/0]\n", []string{
			"c.yaml:4: server.trusted_proxies[0]: trusts X-Forwarded-* headers from every address: any client can claim any IP or scheme",
		}},
		{"strict same_site", "session: {store: redis}\ncookie:\n  secret: 0123456789abcdef0123456789abcdef\n  same_site: strict\n", []string{
			"c.yaml:4: cookie.same_site: strict: the page a login returns to is reached through the provider's cross-site redirect, so browsers send it without the session cookie and the user meets the sign-in page again; use lax",
		}},
		{"redis without certificate checks", "session:\n  store: redis\n  redis:\n    tls:\n      enabled: true\n      insecure_skip_verify: true\n", []string{
			"c.yaml:6: session.redis.tls.insecure_skip_verify: true: the Redis server's certificate is not checked",
		}},
		{"plain http endpoint", "session: {store: redis}\nproviders:\n  kakao:\n    client_id: k\n    endpoints:\n      token_url: http://kauth.example.com/oauth/token\n      auth_url: http://127.0.0.1:9/authorize\n", []string{
			"c.yaml:6: providers.kakao.endpoints.token_url: plain http on a non-loopback host: codes and tokens travel unencrypted",
		}},
		{"write timeout shorter than the provider's", "session: {store: redis}\nserver:\n  public_url: https://gate.example.com\n  write_timeout: 5s\n  provider_timeout: 10s\n", []string{
			"c.yaml:4: server.write_timeout: 5s is shorter than server.provider_timeout (10s): a slow provider's sign-in ends in a dropped connection instead of an error page",
		}},
		{"write timeout off", "session: {store: redis}\nserver:\n  public_url: https://gate.example.com\n  write_timeout: 0s\n", nil},
		{"access token in the clear", "session: {store: redis}\nupstreams:\n  - name: a\n    url: http://10.0.0.5:8080\n    pass_access_token: true\n", []string{
			"c.yaml:5: upstreams[0].pass_access_token: sends the provider's access token over plain http to a non-loopback host",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, tc.head)
			var got []string
			for _, w := range c.Warnings() {
				got = append(got, w.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("warnings:\ngot  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: got %v, want an error wrapping fs.ErrNotExist", err)
	}
}

// TestServerTimeoutZero: an explicit 0 is "no limit" and survives loading;
// only a key left out gets the default.
func TestServerTimeoutZero(t *testing.T) {
	tests := []struct {
		name              string
		head              string
		read, write, idle time.Duration
	}{
		{"defaults", "server:\n  public_url: https://gate.example.com\n", 30 * time.Second, 60 * time.Second, 120 * time.Second},
		{"explicit zero", "server:\n  public_url: https://gate.example.com\n  read_timeout: 0s\n  write_timeout: 0s\n  idle_timeout: 0s\n", 0, 0, 0},
		{"bare zero", "server:\n  public_url: https://gate.example.com\n  read_timeout: 0\n  write_timeout: 0\n  idle_timeout: 0\n", 0, 0, 0},
		{"set", "server:\n  public_url: https://gate.example.com\n  read_timeout: 1s\n  write_timeout: 2s\n  idle_timeout: 3s\n", time.Second, 2 * time.Second, 3 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.head).Server
			if s.ReadTimeout != tc.read || s.WriteTimeout != tc.write || s.IdleTimeout != tc.idle {
				t.Errorf("read %v write %v idle %v, want %v %v %v", s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, tc.read, tc.write, tc.idle)
			}
		})
	}
}

// TestEmailRuleFoldsASCIIOnly: allow.emails folds A–Z and nothing else,
// as proxy compares; a Kelvin sign (U+212A) stays itself rather than
// becoming the 'k' of another mailbox.
func TestEmailRuleFoldsASCIIOnly(t *testing.T) {
	c := mustParse(t, "upstreams:\n  - name: app\n    url: http://127.0.0.1:8080\n    allow:\n"+
		"      emails: [Hong@Example.COM, \"\u212Aim@example.com\", \"\u0130nci@example.com\"]\n")
	want := []string{"hong@example.com", "\u212Aim@example.com", "\u0130nci@example.com"}
	if got := c.Upstreams[0].Allow.Emails; !slices.Equal(got, want) {
		t.Errorf("allow.emails: got %q, want %q", got, want)
	}
}
