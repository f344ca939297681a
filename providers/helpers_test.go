package providers

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

const (
	testClientID = "client-id-123"
	testSecret   = "client-secret-xyz"
	testRedirect = "http://127.0.0.1:4180/oauth2/callback/"
)

func golden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("golden %s: %v", name, err)
	}
	return b
}

// recorded is one request a server saw, with its form already parsed.
type recorded struct {
	Method string
	Header http.Header
	Form   url.Values // body (POST) and query
	Query  url.Values
}

// server is a scripted provider on 127.0.0.1: each path answers with the
// handler a test installs, and every request is recorded.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	reqs   map[string][]recorded
}

func newServer(t testing.TB) *server {
	t.Helper()
	s := &server{routes: map[string]http.HandlerFunc{}, reqs: map[string][]recorded{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	s.reqs[r.URL.Path] = append(s.reqs[r.URL.Path], recorded{
		Method: r.Method, Header: r.Header.Clone(), Form: r.Form, Query: r.URL.Query(),
	})
	h := s.routes[r.URL.Path]
	s.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

func (s *server) handle(path string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[path] = h
}

func (s *server) requests(path string) []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs[path]...)
}

func (s *server) endpoints() Endpoints {
	return Endpoints{
		AuthURL:     s.URL + "/authorize",
		TokenURL:    s.URL + "/token",
		UserinfoURL: s.URL + "/userinfo",
		Issuer:      s.URL,
		JWKSURL:     s.URL + "/jwks",
		RevokeURL:   s.URL + "/revoke",
	}
}

func reply(status int, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(status)
		w.Write(body)
	}
}

func replyJSON(status int, v any) http.HandlerFunc {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return reply(status, b)
}

// newProvider fills the options a test does not care about.
func newProvider(t *testing.T, o Options) *Provider {
	t.Helper()
	if o.ClientID == "" {
		o.ClientID = testClientID
	}
	if o.ClientSecret == "" && o.Name != "kakao" {
		o.ClientSecret = testSecret
	}
	if o.RedirectURL == "" {
		o.RedirectURL = testRedirect + o.Name
	}
	p, err := New(o)
	if err != nil {
		t.Fatalf("New(%s): %v", o.Name, err)
	}
	return p
}

// fixedClock is a settable clock for expiry checks.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

var (
	testKey  = sync.OnceValue(func() *rsa.PrivateKey { return genKey() })
	otherKey = sync.OnceValue(func() *rsa.PrivateKey { return genKey() })
)

func genKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// signIDToken signs claims with key as an RS256 JWT with key ID kid.
func signIDToken(t testing.TB, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatalf("signer: %v", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatalf("claims: %v", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return raw
}

// jwks serves the public half of testKey under kid.
func jwks(kid string) http.HandlerFunc {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &testKey().PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig",
	}}}
	return replyJSON(200, set)
}

// atHash is the OIDC at_hash of an RS256-signed token's access token.
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// authURL is AuthURLContext for tests that expect no discovery failure; ""
// when it fails.
func authURL(p *Provider, a AuthRequest) string {
	u, err := p.AuthURLContext(context.Background(), a)
	if err != nil {
		return ""
	}
	return u
}
