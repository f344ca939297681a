package config

import (
	"strings"
	"testing"

	"github.com/socialgate/socialgate/providers"
)

// knownKinds is how messages list the provider kinds.
var knownKinds = strings.Join(providers.Kinds(), ", ")

// TestProblems checks every validation rule: each case is a file that is
// valid except for what the case tests, and the exact problem lines it must
// produce.
func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		head string
		want []string
	}{
		// server
		{"listen without port", "server:\n  listen: '4180'\n  public_url: https://gate.example.com\n",
			[]string{`c.yaml:2: server.listen: must be host:port, such as ":4180" or "127.0.0.1:4180"`}},
		{"listen bad port", "server:\n  public_url: https://gate.example.com\n  listen: ':http'\n",
			[]string{`c.yaml:3: server.listen: must be host:port, such as ":4180" or "127.0.0.1:4180"`}},
		{"strip_headers", "server:\n  public_url: https://gate.example.com\n  strip_headers: [X-Corp-User, 'x_legacy_*', 'X Corp', '*', '']\n",
			[]string{
				`c.yaml:3: server.strip_headers[2]: must be a header name such as "X-Corp-User", or a prefix ending in "*" such as "X-Corp-*"`,
				`c.yaml:3: server.strip_headers[3]: must be a header name such as "X-Corp-User", or a prefix ending in "*" such as "X-Corp-*"`,
				`c.yaml:3: server.strip_headers[4]: must be a header name such as "X-Corp-User", or a prefix ending in "*" such as "X-Corp-*"`,
			}},
		{"metrics_listen", "server:\n  public_url: https://gate.example.com\n  metrics_listen: '9090'\n",
			[]string{`c.yaml:3: server.metrics_listen: must be host:port, such as "127.0.0.1:9090"`}},
		{"metrics_listen same as listen", "server:\n  public_url: https://gate.example.com\n  listen: ':4180'\n  metrics_listen: ':4180'\n",
			[]string{`c.yaml:4: server.metrics_listen: must differ from server.listen`}},
		{"public_url missing points at server", "server:\n  listen: ':1'\n",
			[]string{`c.yaml:1: server.public_url: is required (the URL browsers use to reach the gateway, such as "https://gate.example.com")`}},
		{"public_url scheme", "server:\n  public_url: ftp://gate.example.com\n",
			[]string{`c.yaml:2: server.public_url: must be an absolute http:// or https:// URL`}},
		{"public_url relative", "server:\n  public_url: gate.example.com\n",
			[]string{`c.yaml:2: server.public_url: must be an absolute http:// or https:// URL`}},
		{"public_url path", "server:\n  public_url: https://gate.example.com/auth\n",
			[]string{`c.yaml:2: server.public_url: must not have a path: the gateway owns every path under its host`}},
		{"public_url query", "server:\n  public_url: https://gate.example.com/?a=1\n",
			[]string{`c.yaml:2: server.public_url: must not have a query`}},
		{"public_url fragment", "server:\n  public_url: 'https://gate.example.com/#x'\n",
			[]string{`c.yaml:2: server.public_url: must not have a "#" fragment`}},
		{"public_url user info", "server:\n  public_url: https://me@gate.example.com\n",
			[]string{`c.yaml:2: server.public_url: must not contain user info`}},
		{"public_url bad port", "server:\n  public_url: https://gate.example.com:99999\n",
			[]string{`c.yaml:2: server.public_url: port "99999" is not a number from 1 to 65535`}},
		{"trusted proxy", "server:\n  public_url: https://gate.example.com\n  trusted_proxies:\n    - 10.0.0.0/8\n    - 10.0.0.300\n",
			[]string{`c.yaml:5: server.trusted_proxies[1]: must be an IP address or a CIDR such as 10.0.0.0/8`}},
		{"read_header_timeout zero", "server:\n  public_url: https://gate.example.com\n  read_header_timeout: 0s\n",
			[]string{`c.yaml:3: server.read_header_timeout: must be positive`}},
		{"negative timeout", "server:\n  public_url: https://gate.example.com\n  write_timeout: -1s\n",
			[]string{`c.yaml:3: server.write_timeout: must not be negative`}},
		{"duration without unit", "server:\n  public_url: https://gate.example.com\n  idle_timeout: 120\n",
			[]string{`c.yaml:3: server.idle_timeout: invalid duration "120": use a Go duration such as "30s", "15m" or "168h"`}},
		{"max_header_bytes zero", "server:\n  public_url: https://gate.example.com\n  max_header_bytes: 0\n",
			[]string{`c.yaml:3: server.max_header_bytes: must be positive`}},
		{"max_header_bytes text", "server:\n  public_url: https://gate.example.com\n  max_header_bytes: 64KiB\n",
			[]string{`c.yaml:3: server.max_header_bytes: must be a whole number`}},

		// login
		{"replay_max_bytes negative", "login:\n  replay_max_bytes: -1\n",
			[]string{`c.yaml:2: login.replay_max_bytes: must not be negative (0 turns replay off)`}},
		{"replay_max_bytes huge", "login:\n  replay_max_bytes: 100000000\n",
			[]string{`c.yaml:2: login.replay_max_bytes: at most 16777216 (16 MiB)`}},

		// cookie
		{"secret missing points at cookie", "cookie:\n  name: sg\n",
			[]string{`c.yaml:1: cookie.secret: is required (at least 32 random bytes; set secret or secret_file)`}},
		{"secret short", "cookie:\n  secret: 0123456789abcdef0123456789abcde\n",
			[]string{`c.yaml:2: cookie.secret: must be at least 32 bytes (try: openssl rand -base64 32)`}},
		{"cookie name", "cookie:\n  secret: " + secret32 + "\n  name: 'my cookie'\n",
			[]string{"c.yaml:3: cookie.name: must be a cookie name: letters, digits and !#$%&'*+-.^_`|~"}},
		{"cookie name prefix", "cookie:\n  secret: " + secret32 + "\n  name: __Host-sg\n",
			[]string{`c.yaml:3: cookie.name: must not start with __Host- or __Secure-: the gateway adds the prefix itself when it applies`}},
		{"previous secret short", "cookie:\n  secret: " + secret32 + "\n  previous_secrets:\n    - " + secret32 + "\n    - short\n",
			[]string{`c.yaml:5: cookie.previous_secrets[1]: must be at least 32 bytes`}},
		{"domain does not cover", "cookie:\n  secret: " + secret32 + "\n  domain: .example.org\n",
			[]string{`c.yaml:3: cookie.domain: does not cover the public_url host "gate.example.com", so browsers would refuse the cookie`}},
		{"domain with port", "cookie:\n  secret: " + secret32 + "\n  domain: example.com:443\n",
			[]string{`c.yaml:3: cookie.domain: must be a domain such as ".example.com", without scheme, port or path`}},
		{"secure not a bool", "cookie:\n  secret: " + secret32 + "\n  secure: yes\n",
			[]string{`c.yaml:3: cookie.secure: must be true or false`}},
		{"same_site unknown", "cookie:\n  secret: " + secret32 + "\n  same_site: Lax\n",
			[]string{`c.yaml:3: cookie.same_site: must be one of lax, strict, none; got "Lax" (did you mean "lax"?)`}},
		{"same_site none needs secure", "cookie:\n  secret: " + secret32 + "\n  secure: false\n  same_site: none\n",
			[]string{`c.yaml:4: cookie.same_site: none requires a secure cookie: browsers drop SameSite=None cookies without Secure`}},

		// session
		{"pending logins budget too small", "session:\n  pending_logins_max_bytes: 1000\n",
			[]string{`c.yaml:2: session.pending_logins_max_bytes: must be at least 65536 (64 KiB)`}},
		{"pending logins share above the budget", "session:\n  pending_logins_max_bytes: 1048576\n  pending_logins_max_bytes_per_client: 2097152\n",
			[]string{`c.yaml:3: session.pending_logins_max_bytes_per_client: must be between 8192 (8 KiB) and session.pending_logins_max_bytes (1048576)`}},
		{"store typo", "session:\n  store: redsi\n",
			[]string{`c.yaml:2: session.store: must be one of memory, redis; got "redsi" (did you mean "redis"?)`}},
		{"idle longer than lifetime", "session:\n  lifetime: 1h\n  idle_timeout: 2h\n",
			[]string{`c.yaml:3: session.idle_timeout: must not be longer than session.lifetime (1h0m0s)`}},
		{"lifetime zero", "session:\n  lifetime: 0s\n",
			[]string{`c.yaml:2: session.lifetime: must be positive`}},
		{"touch not shorter than idle", "session:\n  idle_timeout: 1m\n  touch_interval: 1m\n",
			[]string{`c.yaml:3: session.touch_interval: must be shorter than session.idle_timeout (1m0s), or busy sessions expire`}},
		{"cache_ttl negative", "session:\n  cache_ttl: -1s\n",
			[]string{`c.yaml:2: session.cache_ttl: must not be negative`}},
		{"redis addr", "session:\n  store: redis\n  redis:\n    addrs: [127.0.0.1:6379, redis]\n",
			[]string{`c.yaml:4: session.redis.addrs[1]: must be host:port, such as "127.0.0.1:6379"`}},
		{"redis cluster db", "session:\n  store: redis\n  redis:\n    addrs: [a:1, b:1]\n    db: 2\n",
			[]string{`c.yaml:5: session.redis.db: must be 0 with several addrs: Redis Cluster has only database 0`}},
		{"redis sentinel db is fine", "session:\n  store: redis\n  redis:\n    addrs: [a:1, b:1]\n    master_name: m\n    db: 2\n", nil},
		{"redis db negative", "session:\n  store: redis\n  redis:\n    db: -1\n",
			[]string{`c.yaml:4: session.redis.db: must not be negative`}},
		{"sentinel password without master", "session:\n  store: redis\n  redis:\n    sentinel_password: x\n",
			[]string{`c.yaml:4: session.redis.sentinel_password: is only used with master_name (Redis Sentinel)`}},
		{"ca_file without tls", "session:\n  store: redis\n  redis:\n    tls:\n      ca_file: ca.pem\n",
			[]string{
				`c.yaml:5: session.redis.tls.ca_file: has no effect unless session.redis.tls.enabled is true`,
				`c.yaml:5: session.redis.tls.ca_file: cannot read file: stat ca.pem: no such file or directory`,
			}},
		{"pool_size negative", "session:\n  store: redis\n  redis:\n    pool_size: -1\n",
			[]string{`c.yaml:4: session.redis.pool_size: must not be negative (0 means the go-redis default)`}},
		{"redis dial_timeout zero", "session:\n  store: redis\n  redis:\n    dial_timeout: 0s\n",
			[]string{`c.yaml:4: session.redis.dial_timeout: must be positive`}},

		// providers
		{"no providers", "providers: {}\n",
			[]string{`c.yaml:1: providers: at least one provider is required (google, naver, kakao)`}},
		{"unknown provider", "providers:\n  google: {client_id: g, client_secret: s}\n  myspace:\n    client_id: x\n",
			[]string{`c.yaml:3: providers.myspace: unknown provider "myspace"; known providers: ` + knownKinds + ` (an id of your own needs kind: one of them)`}},
		{"provider typo", "providers:\n  kakoa:\n    client_id: x\n",
			[]string{`c.yaml:2: providers.kakoa: unknown provider "kakoa" (did you mean "kakao"?); known providers: ` + knownKinds + ` (an id of your own needs kind: one of them)`}},
		{"client_id missing points at provider", "providers:\n  kakao:\n    scopes: [profile_nickname]\n",
			[]string{`c.yaml:2: providers.kakao.client_id: is required`}},
		{"naver needs a secret", "providers:\n  naver:\n    client_id: n\n",
			[]string{`c.yaml:2: providers.naver.client_secret: is required (set client_secret or client_secret_file)`}},
		{"kakao secret is optional", "providers:\n  kakao:\n    client_id: k\n", nil},
		{"google scopes need openid", "providers:\n  google:\n    client_id: g\n    client_secret: s\n    scopes: [email, profile]\n",
			[]string{`c.yaml:5: providers.google.scopes: must include "openid": google signs in with OpenID Connect`}},
		{"kakao oidc scopes need openid", "providers:\n  kakao:\n    client_id: k\n    oidc: true\n    scopes: [profile_nickname]\n",
			[]string{`c.yaml:5: providers.kakao.scopes: must include "openid": kakao signs in with OpenID Connect`}},
		{"scope with space", "providers:\n  kakao:\n    client_id: k\n    scopes:\n      - 'profile account_email'\n",
			[]string{`c.yaml:5: providers.kakao.scopes[0]: must be one scope, without spaces`}},
		{"endpoint not a URL", "providers:\n  kakao:\n    client_id: k\n    endpoints:\n      token_url: /oauth/token\n",
			[]string{`c.yaml:5: providers.kakao.endpoints.token_url: must be an absolute http:// or https:// URL`}},
		{"naver has no issuer", "providers:\n  naver:\n    client_id: n\n    client_secret: s\n    endpoints:\n      issuer: https://nid.naver.com\n",
			[]string{`c.yaml:6: providers.naver.endpoints.issuer: naver has no OpenID Connect; only auth_url, token_url, userinfo_url and revoke_url apply`}},
		{"kakao jwks needs oidc", "providers:\n  kakao:\n    client_id: k\n    endpoints:\n      jwks_url: http://127.0.0.1:9/jwks\n",
			[]string{`c.yaml:5: providers.kakao.endpoints.jwks_url: is only used with providers.kakao.oidc: true`}},
		{"scopes on naver", "providers:\n  naver:\n    client_id: n\n    client_secret: s\n    scopes: [email]\n",
			[]string{`c.yaml:5: providers.naver.scopes: naver takes no scopes (the fields it gives are chosen in Naver's developer console)`}},
		{"trust_email on google", "providers:\n  google:\n    client_id: g\n    client_secret: s\n    trust_email: true\n",
			[]string{`c.yaml:5: providers.google.trust_email: only applies to naver (the other providers say whether an e-mail is verified)`}},
		{"oidc on naver", "providers:\n  naver:\n    client_id: n\n    client_secret: s\n    oidc: true\n",
			[]string{`c.yaml:5: providers.naver.oidc: only applies to kakao (google always uses OpenID Connect; naver has none)`}},

		// redirects
		{"allowed host with scheme", "redirects:\n  allowed_hosts:\n    - https://app.example.com\n",
			[]string{`c.yaml:3: redirects.allowed_hosts[0]: write a host, without a scheme`}},
		{"allowed host with path", "redirects:\n  allowed_hosts: [app.example.com/x]\n",
			[]string{`c.yaml:2: redirects.allowed_hosts[0]: write a host, without a path`}},
		{"allowed host wildcard", "redirects:\n  allowed_hosts: ['*.example.com']\n",
			[]string{`c.yaml:2: redirects.allowed_hosts[0]: wildcards are not supported; a leading "." matches all subdomains`}},
		{"allowed host empty", "redirects:\n  allowed_hosts: [ok.example.com, '']\n",
			[]string{`c.yaml:2: redirects.allowed_hosts[1]: must not be empty`}},
		{"allowed host port", "redirects:\n  allowed_hosts: ['app.example.com:0']\n",
			[]string{`c.yaml:2: redirects.allowed_hosts[0]: port "0" is not a number from 1 to 65535`}},

		// upstreams
		{"no upstreams", "upstreams: []\n",
			[]string{`c.yaml:1: upstreams: at least one upstream is required`}},
		// Without url an upstream answers forward-auth only: not an error.
		{"upstream name missing", "upstreams:\n  - path: /a\n",
			[]string{
				`c.yaml:2: upstreams[0].name: is required`,
			}},
		{"duplicate name", "upstreams:\n  - name: a\n    url: http://127.0.0.1:1\n  - name: a\n    path: /b\n    url: http://127.0.0.1:2\n",
			[]string{`c.yaml:4: upstreams[1].name: duplicate name "a" (also upstreams[0])`}},
		{"duplicate route", "upstreams:\n  - name: a\n    host: App.Example.com\n    url: http://127.0.0.1:1\n  - name: b\n    host: app.example.com\n    path: /\n    url: http://127.0.0.1:2\n",
			[]string{`c.yaml:5: upstreams[1]: same host and path as upstreams[0] ("a")`}},
		{"same path other host is fine", "upstreams:\n  - name: a\n    url: http://127.0.0.1:1\n  - name: b\n    host: b.example.com\n    url: http://127.0.0.1:2\n", nil},
		{"upstream url", "upstreams:\n  - name: a\n    url: 127.0.0.1:8080\n",
			[]string{`c.yaml:3: upstreams[0].url: must be an absolute http:// or https:// URL`}},
		{"upstream path", "upstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    path: wiki\n",
			[]string{`c.yaml:4: upstreams[0].path: must start with "/"`}},
		{"upstream path query", "upstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    path: /a?b\n",
			[]string{`c.yaml:4: upstreams[0].path: must be a path only, without "?", "#" or "\"`}},
		{"upstream host with scheme", "upstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    host: http://a.example.com\n",
			[]string{`c.yaml:4: upstreams[0].host: write a host, without a scheme`}},
		{"auth typo", "upstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    auth: requird\n",
			[]string{`c.yaml:4: upstreams[0].auth: must be one of required, public; got "requird" (did you mean "required"?)`}},
		{"header_encoding", "upstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    header_encoding: utf8\n",
			[]string{`c.yaml:4: upstreams[0].header_encoding: must be one of percent, raw, base64, euc-kr; got "utf8"`}},
		{"allow unconfigured provider", "upstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    allow:\n      providers: [google, kakao]\n",
			[]string{`c.yaml:5: upstreams[0].allow.providers[1]: "kakao" is not a configured provider (configured: google)`}},
		{"allow email", "upstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    allow:\n      emails:\n        - hong@example.com\n        - hong.example.com\n",
			[]string{`c.yaml:7: upstreams[0].allow.emails[1]: must be an e-mail address such as user@example.com`}},
		{"allow email domain with at", "upstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    allow:\n      email_domains: ['@example.com']\n",
			[]string{`c.yaml:5: upstreams[0].allow.email_domains[0]: write the domain without "@", such as example.com`}},
		{"allow user form", "upstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    allow:\n      users: ['3456789012']\n",
			[]string{`c.yaml:5: upstreams[0].allow.users[0]: must be "provider:subject", such as "kakao:3456789012"`}},
		{"allow user provider", "upstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    allow:\n      users: ['naver:abc']\n",
			[]string{`c.yaml:5: upstreams[0].allow.users[0]: "naver" is not a configured provider (configured: google)`}},
		{"allow kakao user not decimal", "providers:\n  kakao: {client_id: k}\nupstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    allow:\n      users: ['kakao:홍길동']\n",
			[]string{`c.yaml:7: upstreams[0].allow.users[0]: a kakao subject is the decimal user id, such as "kakao:3456789012"`}},
		{"allow on public", "upstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    auth: public\n    allow:\n      emails: [a@example.com]\n",
			[]string{`c.yaml:5: upstreams[0].allow: has no effect on a public upstream (auth: public)`}},

		// log
		{"log level", "log:\n  level: verbose\n",
			[]string{`c.yaml:2: log.level: must be one of debug, info, warn, error; got "verbose"`}},
		{"log level typo", "log:\n  level: eror\n",
			[]string{`c.yaml:2: log.level: must be one of debug, info, warn, error; got "eror" (did you mean "error"?)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == nil {
				mustParse(t, tc.head)
				return
			}
			sameLines(t, problemLines(t, doc(tc.head), noEnv), tc.want)
		})
	}
}
