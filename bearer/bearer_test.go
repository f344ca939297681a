package bearer_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/socialgate/socialgate/bearer"
	"github.com/socialgate/socialgate/providers/providertest"
)

// clock is a settable clock shared by the verifier and the issuer.
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

var batchClient = providertest.AuthClient{ID: "batch-job", Secret: "s3cret", Scopes: []string{"wiki.read", "wiki.write"}}

type env struct {
	as   *providertest.AuthServer
	v    *bearer.Verifier
	rule *bearer.Rule
	now  *clock
}

func newEnv(t testing.TB, alg string, opts func(*bearer.Options)) *env {
	t.Helper()
	now := &clock{t: time.Now()}
	as, err := providertest.StartAuthServer(providertest.AuthServerOptions{
		Clients: []providertest.AuthClient{batchClient}, Audience: "wiki-api", Alg: alg, Now: now.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(as.Close)
	o := bearer.Options{Issuers: []bearer.Issuer{{Issuer: as.URL()}}, Now: now.Now}
	if opts != nil {
		opts(&o)
	}
	v, err := bearer.New(o)
	if err != nil {
		t.Fatal(err)
	}
	rule, err := v.Rule([]bearer.Audience{{Issuer: as.URL(), Audiences: []string{"wiki-api"}}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{as: as, v: v, rule: rule, now: now}
}

// grant gets a token the way a machine client does: the client-credentials
// grant over HTTP, Basic client authentication.
func (e *env) grant(t testing.TB, scopes ...string) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: batchClient.ID, ClientSecret: batchClient.Secret,
		TokenURL: e.as.TokenURL(), Scopes: scopes}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func (e *env) sign(t testing.TB, edit func(map[string]any)) string {
	t.Helper()
	c := e.as.Claims(batchClient, []string{"wiki.read"})
	if edit != nil {
		edit(c)
	}
	tok, err := e.as.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVerifyClientCredentialsToken(t *testing.T) {
	for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t, alg, nil)
			tok, err := e.rule.Verify(context.Background(), e.grant(t, "wiki.read"))
			if err != nil {
				t.Fatal(err)
			}
			if tok.ClientID != "batch-job" || tok.ScopeText != "wiki.read" || tok.Issuer != e.as.URL() {
				t.Errorf("got client %q scopes %q issuer %q", tok.ClientID, tok.ScopeText, tok.Issuer)
			}
			if !tok.HasScopes([]string{"wiki.read"}) || tok.HasScopes([]string{"wiki.read", "wiki.write"}) {
				t.Errorf("HasScopes wrong for %v", tok.Scopes)
			}
		})
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jsonB64(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64(b)
}

// hs256 is the classic key-confusion attack: an HMAC token whose secret is
// the issuer's public key, which a verifier that lets the token pick the
// algorithm would accept.
func hs256(t testing.TB, kid string, claims map[string]any, secret []byte) string {
	in := jsonB64(t, map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": kid}) + "." + jsonB64(t, claims)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(in))
	return in + "." + b64(m.Sum(nil))
}

func TestBadTokensRefused(t *testing.T) {
	e := newEnv(t, "RS256", nil)
	good := e.as.Claims(batchClient, []string{"wiki.read"})
	pubDER, err := x509.MarshalPKIXPublicKey(e.as.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	withClaims := func(edit func(map[string]any)) map[string]any {
		c := maps.Clone(good)
		edit(c)
		return c
	}
	signOther := func(kid string) string {
		tok, err := providertest.SignJWT(other, jose.RS256, map[string]any{"kid": kid, "typ": "at+jwt"}, good)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	header := func(h map[string]any) string {
		tok, err := e.as.SignWithHeaders(h, good)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	valid := e.sign(t, nil)
	parts := strings.Split(valid, ".")
	cases := []struct{ name, token string }{
		{"unsigned alg none", jsonB64(t, map[string]any{"alg": "none", "typ": "at+jwt"}) + "." + jsonB64(t, good) + "."},
		{"alg none with the real signature", jsonB64(t, map[string]any{"alg": "none", "kid": e.as.KeyID()}) + "." + parts[1] + "." + parts[2]},
		{"HS256 signed with the public key PEM", hs256(t, e.as.KeyID(), good, pubPEM)},
		{"HS256 signed with the public key DER", hs256(t, e.as.KeyID(), good, pubDER)},
		{"another key, the issuer's kid", signOther(e.as.KeyID())},
		{"another key, unknown kid", signOther("attacker")},
		{"another key, no kid", signOther("")},
		{"expired", e.sign(t, func(c map[string]any) { c["exp"] = e.now.Now().Add(-time.Hour).Unix() })},
		{"not yet valid", e.sign(t, func(c map[string]any) { c["nbf"] = e.now.Now().Add(time.Hour).Unix() })},
		{"wrong issuer", e.sign(t, func(c map[string]any) { c["iss"] = "https://evil.example" })},
		{"issuer with a trailing slash", e.sign(t, func(c map[string]any) { c["iss"] = e.as.URL() + "/" })},
		{"wrong audience", e.sign(t, func(c map[string]any) { c["aud"] = "other-api" })},
		{"no audience", e.sign(t, func(c map[string]any) { delete(c, "aud") })},
		{"no exp", e.sign(t, func(c map[string]any) { delete(c, "exp") })},
		{"exp as a string", e.sign(t, func(c map[string]any) { c["exp"] = "9999999999" })},
		{"no client", e.sign(t, func(c map[string]any) { delete(c, "client_id"); delete(c, "sub") })},
		{"typ logout+jwt", header(map[string]any{"kid": e.as.KeyID(), "typ": "logout+jwt"})},
		{"crit header", header(map[string]any{"kid": e.as.KeyID(), "crit": []string{"exp"}, "exp": 1})},
		{"payload swapped", parts[0] + "." + jsonB64(t, withClaims(func(c map[string]any) { c["client_id"] = "admin" })) + "." + parts[2]},
		{"signature cut", parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-4]},
		{"padded signature", valid + "="},
		{"four parts", valid + ".x"},
		{"JWE shape", "a.b.c.d.e"},
		{"empty", ""},
		{"not base64", "!!.!!.!!"},
		{"huge", strings.Repeat("a", bearer.MaxTokenBytes+1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.rule.Verify(context.Background(), c.token)
			if !errors.Is(err, bearer.ErrInvalidToken) {
				t.Fatalf("got %v, want ErrInvalidToken", err)
			}
			t.Log(err)
			if c.token != "" && strings.Contains(err.Error(), c.token) {
				t.Errorf("the error quotes the token: %v", err)
			}
		})
	}
	if _, err := e.rule.Verify(context.Background(), valid); err != nil {
		t.Fatalf("the untampered token: %v", err)
	}
}

func TestLeeway(t *testing.T) {
	e := newEnv(t, "ES256", nil)
	exp := e.sign(t, func(c map[string]any) { c["exp"] = e.now.Now().Add(-10 * time.Second).Unix() })
	nbf := e.sign(t, func(c map[string]any) { c["nbf"] = e.now.Now().Add(10 * time.Second).Unix() })
	for _, tok := range []string{exp, nbf} {
		if _, err := e.rule.Verify(context.Background(), tok); err != nil {
			t.Errorf("within the 30s leeway: %v", err)
		}
	}
	// A cached token expires with its exp too.
	e.now.Advance(time.Minute)
	if _, err := e.rule.Verify(context.Background(), exp); !errors.Is(err, bearer.ErrInvalidToken) {
		t.Errorf("cached token past exp+leeway: got %v, want ErrInvalidToken", err)
	}
}

func TestClaimVariants(t *testing.T) {
	e := newEnv(t, "ES256", nil)
	cases := []struct {
		name           string
		edit           func(map[string]any)
		client, scopes string
	}{
		{"scope string", nil, "batch-job", "wiki.read"},
		{"scp array (Okta)", func(c map[string]any) { delete(c, "scope"); c["scp"] = []string{"a", "b"} }, "batch-job", "a b"},
		{"scp string (Entra ID)", func(c map[string]any) { delete(c, "scope"); c["scp"] = "a b" }, "batch-job", "a b"},
		{"azp (Keycloak)", func(c map[string]any) { delete(c, "client_id"); c["azp"] = "kc-client" }, "kc-client", "wiki.read"},
		{"sub only", func(c map[string]any) { delete(c, "client_id"); c["sub"] = "svc" }, "svc", "wiki.read"},
		{"aud array", func(c map[string]any) { c["aud"] = []string{"x", "wiki-api"} }, "batch-job", "wiki.read"},
		{"fractional exp", func(c map[string]any) { c["exp"] = float64(e.now.Now().Unix()) + 60.5 }, "batch-job", "wiki.read"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, err := e.rule.Verify(context.Background(), e.sign(t, c.edit))
			if err != nil {
				t.Fatal(err)
			}
			if tok.ClientID != c.client || tok.ScopeText != c.scopes {
				t.Errorf("got client %q scopes %q, want %q %q", tok.ClientID, tok.ScopeText, c.client, c.scopes)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	for _, o := range []bearer.Options{
		{},
		{Issuers: []bearer.Issuer{{Issuer: "sso.example.com"}}},
		{Issuers: []bearer.Issuer{{Issuer: "https://a.example"}, {Issuer: "https://a.example"}}},
		{Issuers: []bearer.Issuer{{Issuer: "https://a.example", JWKSURL: "/keys"}}},
	} {
		if _, err := bearer.New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	v, err := bearer.New(bearer.Options{Issuers: []bearer.Issuer{{Issuer: "https://a.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, acc := range [][]bearer.Audience{
		nil,
		{{Issuer: "https://b.example", Audiences: []string{"x"}}},
		{{Issuer: "https://a.example"}},
	} {
		if _, err := v.Rule(acc); err == nil {
			t.Errorf("Rule(%+v) accepted", acc)
		}
	}
}
