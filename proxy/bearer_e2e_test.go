package proxy_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/socialgate/socialgate/bearer"
	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/proxy"
)

// machine is the batch job of the bearer tests: it may ask for wiki.read
// and wiki.write at the fake authorization server.
var machine = providertest.AuthClient{ID: "batch-job", Secret: "batch-secret", Scopes: []string{"wiki.read", "wiki.write"}}

// hong is the fake Google's user with a verified gmail.com address.
const hong = "110169484474386276334"

// bearerGateway is a gateway whose /api/ accepts the fake issuer's tokens
// for audience wiki-api with scope wiki.read, /api/ops/ only client
// "ops-bot", /both/ also verified e-mails of gmail.com, "/" no bearer tokens at
// all, and /public is public.
type bearerGateway struct {
	*gateway
	as *providertest.AuthServer
}

func newBearerGateway(t *testing.T) *bearerGateway {
	t.Helper()
	return newBearerGatewayWith(t, func(up string, aud []bearer.Audience) []proxy.Route {
		u, _ := url.Parse(up)
		return []proxy.Route{
			{Name: "app", Path: "/", URL: u},
			{Name: "public", Path: "/public", URL: u, Public: true},
			{Name: "api", Path: "/api/", URL: u, Bearer: aud, Allow: proxy.Allow{Scopes: []string{"wiki.read"}}},
			{Name: "ops", Path: "/api/ops/", URL: u, Bearer: aud, Allow: proxy.Allow{Clients: []string{"ops-bot"}}},
			{Name: "both", Path: "/both/", URL: u, Bearer: aud,
				Allow: proxy.Allow{EmailDomains: []string{"gmail.com"}, Scopes: []string{"wiki.read"}}},
		}
	})
}

// newBearerGatewayWith takes the routes, given the upstream's URL and the
// fake issuer's audience wiki-api.
func newBearerGatewayWith(t *testing.T, routes func(up string, aud []bearer.Audience) []proxy.Route) *bearerGateway {
	t.Helper()
	now := &clock{t: time.Now()}
	as, err := providertest.StartAuthServer(providertest.AuthServerOptions{
		Clients: []providertest.AuthClient{machine}, Audience: "wiki-api", Now: now.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(as.Close)
	v, err := bearer.New(bearer.Options{Issuers: []bearer.Issuer{{Issuer: as.URL()}}, Now: now.Now, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	aud := []bearer.Audience{{Issuer: as.URL(), Audiences: []string{"wiki-api"}}}
	g := newGateway(t, gatewayConfig{now: now, trusted: []string{"127.0.0.0/8"},
		routes:  func(up string) []proxy.Route { return routes(up, aud) },
		options: func(o *proxy.Options) { o.Bearer = v },
	})
	return &bearerGateway{gateway: g, as: as}
}

// token runs the client-credentials grant over HTTP.
func (g *bearerGateway) token(t *testing.T, scopes ...string) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: machine.ID, ClientSecret: machine.Secret, TokenURL: g.as.TokenURL(), Scopes: scopes}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// call sends a request with the token and extra headers, the way a script
// would, except that it also says it accepts HTML: a bearer client must
// never be sent to the sign-in page whatever it accepts.
func (g *bearerGateway) call(t *testing.T, path, token string, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.URL+path, nil)
	req.Header.Set("Accept", "text/html,application/json")
	for k, v := range hdr {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Set-Cookie") != "" || resp.Header.Get("Location") != "" {
		t.Errorf("%s: a bearer request got a cookie or a redirect: %v", path, resp.Header)
	}
	return resp, string(body)
}

// refused checks a refusal: status, exact challenge, JSON error.
func refused(t *testing.T, resp *http.Response, body string, status int, wwwAuth string) {
	t.Helper()
	if resp.StatusCode != status || resp.Header.Get("WWW-Authenticate") != wwwAuth {
		t.Fatalf("got %d %q, want %d %q (body %s)", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), status, wwwAuth, body)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("refusal is %s, want JSON", resp.Header.Get("Content-Type"))
	}
}

func TestBearerTokenReachesApp(t *testing.T) {
	g := newBearerGateway(t)
	tok := g.token(t, "wiki.read", "wiki.write")
	forged := http.Header{
		"X-Forwarded-User":     {"google:admin"},
		"X-Forwarded-Scopes":   {"admin"},
		"X_forwarded_provider": {"google"},
		"X-Forwarded-Email":    {"admin@example.com"},
		"X-Auth-Request-User":  {"admin"},
		"X-Forwarded-Groups":   {"admins"},
	}
	resp, body := g.call(t, "/api/pages?id=1", tok, forged)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var e echo
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"X-Forwarded-User":           {"client:batch-job"},
		"X-Forwarded-Provider":       {"bearer"},
		"X-Forwarded-Scopes":         {"wiki.read wiki.write"},
		"X-Forwarded-Email-Verified": {"false"},
		"X-Forwarded-Email":          nil,
		"X-Forwarded-Groups":         nil,
		"X-Auth-Request-User":        nil,
		"X_forwarded_provider":       nil,
		"Authorization":              {"Bearer " + tok}, // the app may check it again
	}
	for k, v := range want {
		if got := e.Header[k]; strings.Join(got, "|") != strings.Join(v, "|") {
			t.Errorf("upstream %s: got %q, want %q", k, got, v)
		}
	}
	if strings.Contains(g.logs.String(), tok) || strings.Contains(g.logs.String(), tok[strings.LastIndexByte(tok, '.')+1:]) {
		t.Error("the token reached the log")
	}
}

func TestBearerBadTokensRefused(t *testing.T) {
	g := newBearerGateway(t)
	good := g.as.Claims(machine, []string{"wiki.read"})
	sign := func(edit func(map[string]any)) string {
		c := map[string]any{}
		for k, v := range good {
			c[k] = v
		}
		edit(c)
		tok, err := g.as.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	pub, _ := x509.MarshalPKIXPublicKey(g.as.PublicKey())
	hsInput := enc(map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": g.as.KeyID()}) + "." + enc(good)
	mac := hmac.New(sha256.New, pub)
	mac.Write([]byte(hsInput))
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherTok, err := providertest.SignJWT(other, jose.RS256, map[string]any{"kid": g.as.KeyID(), "typ": "at+jwt"}, good)
	if err != nil {
		t.Fatal(err)
	}
	now := g.now.Now()
	cases := []struct{ name, token string }{
		{"unsigned (alg none)", enc(map[string]any{"alg": "none", "typ": "at+jwt"}) + "." + enc(good) + "."},
		{"HS256 signed with the public key", hsInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))},
		{"another key", otherTok},
		{"expired", sign(func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() })},
		{"not yet valid", sign(func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix() })},
		{"wrong issuer", sign(func(c map[string]any) { c["iss"] = "https://evil.example" })},
		{"wrong audience", sign(func(c map[string]any) { c["aud"] = "billing-api" })},
		{"no exp", sign(func(c map[string]any) { delete(c, "exp") })},
		{"garbage", "not-a-jwt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := g.call(t, "/api/pages", c.token, nil)
			refused(t, resp, body, http.StatusUnauthorized, `Bearer error="invalid_token"`)
		})
	}
	t.Run("two Authorization headers", func(t *testing.T) {
		resp, body := g.call(t, "/api/pages", "", http.Header{"Authorization": {"Bearer a.b.c", "Bearer d.e.f"}})
		refused(t, resp, body, http.StatusBadRequest, `Bearer error="invalid_request"`)
	})
	t.Run("no credentials at all", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, g.URL+"/api/pages", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("got %d %q, want 401 with a bare Bearer challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})
}

func TestBearerScopesAndClients(t *testing.T) {
	g := newBearerGateway(t)
	resp, body := g.call(t, "/api/pages", g.token(t, "wiki.write"), nil)
	refused(t, resp, body, http.StatusForbidden, `Bearer error="insufficient_scope"`)
	// allow.clients names another client: 403, but no scope would help.
	resp, body = g.call(t, "/api/ops/restart", g.token(t, "wiki.read"), nil)
	refused(t, resp, body, http.StatusForbidden, "")
}

// TestBearerNoScopeClaimLogged: a token without any scope is refused on a
// route requiring one like any token lacking it, but the log says the
// token carries none, so the operator looks at the issuer (which may have
// granted the scopes in its token response and left them out of the
// token) rather than at the scopes the client asked for.
func TestBearerNoScopeClaimLogged(t *testing.T) {
	g := newBearerGateway(t)
	bare, err := g.as.Sign(g.as.Claims(machine, nil)) // no scope claim
	if err != nil {
		t.Fatal(err)
	}
	resp, body := g.call(t, "/api/pages", bare, nil)
	refused(t, resp, body, http.StatusForbidden, `Bearer error="insufficient_scope"`)
	if logs := g.logs.String(); !strings.Contains(logs, "token of client batch-job carries no scope") {
		t.Errorf("log does not say the token carries no scope:\n%s", logs)
	}
	resp, body = g.call(t, "/api/pages", g.token(t, "wiki.write"), nil)
	refused(t, resp, body, http.StatusForbidden, `Bearer error="insufficient_scope"`)
	if logs := g.logs.String(); !strings.Contains(logs, "client batch-job lacks a scope route api requires") {
		t.Errorf("log does not say which route's scope the client lacks:\n%s", logs)
	}
}

func TestBearerOnRouteWithoutBearer(t *testing.T) {
	g := newBearerGateway(t)
	tok := g.token(t, "wiki.read")
	resp, body := g.call(t, "/wiki/page", tok, nil)
	refused(t, resp, body, http.StatusUnauthorized, `Bearer error="invalid_token"`)
	// Also with a session cookie: the token is what the client means.
	b := newBrowser(t)
	g.login(b, "google", hong, g.URL+"/wiki/page")
	resp, body = g.call(t, "/wiki/page", tok, http.Header{"Cookie": {sessionCookie(t, b, g.gateway)}})
	refused(t, resp, body, http.StatusUnauthorized, `Bearer error="invalid_token"`)
	// A public route is the app's to judge: the token passes on, no identity.
	resp, body = g.call(t, "/public/x", tok, nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "client:batch-job") {
		t.Errorf("public route: %d %s", resp.StatusCode, body)
	}
}

// TestBearerRouteSessionRules: on a route with bearer, a browser session
// is judged by the session rules; allow.scopes alone keeps sessions out.
func TestBearerRouteSessionRules(t *testing.T) {
	g := newBearerGateway(t)
	b := newBrowser(t)
	g.login(b, "google", hong, g.URL+"/both/x")
	cookie := http.Header{"Cookie": {sessionCookie(t, b, g.gateway)}}
	if resp, body := g.call(t, "/both/x", "", cookie); resp.StatusCode != http.StatusOK {
		t.Errorf("session on a route allowing its e-mail domain: %d %s", resp.StatusCode, body)
	}
	if resp, body := g.call(t, "/api/x", "", cookie); resp.StatusCode != http.StatusForbidden {
		t.Errorf("session on a route with allow.scopes only: %d %s, want 403", resp.StatusCode, body)
	}
	if resp, body := g.call(t, "/both/x", g.token(t, "wiki.read"), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("token on the mixed route: %d %s", resp.StatusCode, body)
	}
}

func TestBearerKeyRotationAtIssuer(t *testing.T) {
	g := newBearerGateway(t)
	old := g.token(t, "wiki.read")
	if resp, body := g.call(t, "/api/x", old, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("before rotation: %d %s", resp.StatusCode, body)
	}
	if _, err := g.as.Rotate(); err != nil {
		t.Fatal(err)
	}
	g.now.Advance(time.Minute)
	fresh := g.token(t, "wiki.read")
	if resp, body := g.call(t, "/api/x", fresh, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("token of the new key: %d %s", resp.StatusCode, body)
	}
	if n := g.as.JWKSFetches(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (first use, new kid)", n)
	}
}

func TestBearerIssuerDownIs503(t *testing.T) {
	g := newBearerGateway(t)
	tok := g.token(t, "wiki.read")
	g.as.SetJWKSDown(true)
	resp, body := g.call(t, "/api/x", tok, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("keys unavailable: %d %q %s, want 503 without a challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	if got := resp.Header.Get("Retry-After"); got != "5" {
		t.Errorf("keys unavailable: Retry-After %q, want 5 (the verifier's retry interval)", got)
	}
}

func TestBearerForwardAuth(t *testing.T) {
	g := newBearerGateway(t)
	ask := func(uri, token string) *http.Response {
		t.Helper()
		resp, _ := forwardAuth(t, g.gateway, nil, map[string]string{
			"X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.example.com", "X-Forwarded-Uri": uri,
			"Authorization": "Bearer " + token, "Accept": "text/html"})
		if resp.Header.Get("X-Auth-Request-Redirect") != "" || resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s: a bearer request got a sign-in redirect or a cookie", uri)
		}
		return resp
	}
	// A client-sent identity header is refused before any credential is
	// looked at: a front proxy would pass it on to the app.
	if resp, _ := forwardAuth(t, g.gateway, nil, map[string]string{
		"X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.example.com", "X-Forwarded-Uri": "/api/pages",
		"Authorization": "Bearer " + g.token(t, "wiki.read"), "X-Auth-Request-User": "admin"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged X-Auth-Request-User with a good token: %d, want 403", resp.StatusCode)
	}
	resp := ask("/api/pages?id=1", g.token(t, "wiki.read"))
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("X-Auth-Request-User") != "client:batch-job" ||
		resp.Header.Get("X-Auth-Request-Provider") != "bearer" || resp.Header.Get("X-Auth-Request-Scopes") != "wiki.read" {
		t.Errorf("good token: %d %v", resp.StatusCode, resp.Header)
	}
	for _, c := range []struct {
		uri, token string
		status     int
		challenge  string
	}{
		{"/api/pages", "a.b.c", http.StatusUnauthorized, `Bearer error="invalid_token"`},
		{"/api/pages", g.token(t, "wiki.write"), http.StatusForbidden, `Bearer error="insufficient_scope"`},
		{"/wiki/page", g.token(t, "wiki.read"), http.StatusUnauthorized, `Bearer error="invalid_token"`},
	} {
		resp := ask(c.uri, c.token)
		if resp.StatusCode != c.status || resp.Header.Get("WWW-Authenticate") != c.challenge {
			t.Errorf("%s: got %d %q, want %d %q", c.uri, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), c.status, c.challenge)
		}
	}
}
