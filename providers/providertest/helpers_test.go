package providertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

const (
	testClientID = "test-client-id"
	testSecret   = "test-client-secret"
	testCallback = "http://127.0.0.1:9999/oauth2/callback"
	testVerifier = "s0me-Verifier_of.sufficient~length-1234567890abcdef"
)

// testChallenge is the S256 challenge of testVerifier, computed here
// independently of the fake's own check.
var testChallenge = func() string {
	sum := sha256.Sum256([]byte(testVerifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}()

// clock is a settable Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// start serves a fake of kind with a test clock; secret "" keeps the
// default test secret except for Kakao, where it means no secret.
func start(t *testing.T, kind string, secret string) (*Fake, *clock) {
	t.Helper()
	c := newClock()
	if secret == "" && kind != Kakao {
		secret = testSecret
	}
	f, err := Start(kind, Options{ClientID: testClientID, ClientSecret: secret, Now: c.Now})
	if err != nil {
		t.Fatalf("Start(%q): %v", kind, err)
	}
	t.Cleanup(f.Close)
	return f, c
}

// noRedirect is a client that reports redirects instead of following.
var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func get(t *testing.T, u string, bearerToken string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+bearerToken)
	}
	return do(t, req)
}

func postForm(t *testing.T, u string, form url.Values, bearerToken string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	if bearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+bearerToken)
	}
	return do(t, req)
}

// decode parses a JSON body keeping numbers exact.
func (r reply) decode(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
	return m
}

func (r reply) str(t *testing.T, key string) string {
	t.Helper()
	s, _ := r.decode(t)[key].(string)
	return s
}

// authorize sends the browser's GET /authorize and returns the callback
// query it was redirected to.
func authorize(t *testing.T, f *Fake, params url.Values) url.Values {
	t.Helper()
	r := get(t, f.Endpoints().AuthURL+"?"+params.Encode(), "")
	if r.status != http.StatusFound {
		t.Fatalf("authorize: got status %d, want 302; body %q", r.status, r.body)
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatalf("authorize: bad Location: %v", err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testCallback {
		t.Fatalf("authorize: redirected to %q, want %q", got, testCallback)
	}
	return loc.Query()
}

func authParamsFor(kind string, extra url.Values) url.Values {
	v := url.Values{"client_id": {testClientID}, "redirect_uri": {testCallback},
		"response_type": {"code"}, "state": {"st-123"}}
	if kind == Google {
		v.Set("scope", "openid email profile")
	}
	for k, vs := range extra {
		v[k] = vs
	}
	return v
}

// claims verifies an id_token with the fake's key and returns its claims.
func claims(t *testing.T, f *Fake, tok string) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(idTokenPayload(t, f, tok)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode claims: %v", err)
	}
	return m
}

// idTokenPayload verifies an id_token with the fake's key and returns its
// payload as sent.
func idTokenPayload(t *testing.T, f *Fake, tok string) []byte {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("parse id_token: %v", err)
	}
	if got := jws.Signatures[0].Header.KeyID; got != f.key.kid {
		t.Errorf("id_token kid: got %q, want %q", got, f.key.kid)
	}
	payload, err := jws.Verify(&f.key.priv.PublicKey)
	if err != nil {
		t.Fatalf("verify id_token: %v", err)
	}
	return payload
}

// golden compares a JSON payload with testdata/name.json after
// normalising what changes from run to run: the base URL and random
// tokens. Times come from the test clock and stay.
func golden(t *testing.T, f *Fake, name string, payload []byte) {
	t.Helper()
	got := normalize(t, f, payload)
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: got\n%s\nwant\n%s", path, got, want)
	}
}

// Volatile values in the fake's compact JSON, replaced in place so that
// the goldens keep the fake's field order and exact numbers.
var volatile = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`"(access_token|refresh_token|id_token|at_hash)":"[^"]*"`), `"$1":"<random>"`},
	{regexp.MustCompile(`code=[^"]*"`), `code=<code>"`},
}

func normalize(t *testing.T, f *Fake, payload []byte) []byte {
	t.Helper()
	if !json.Valid(payload) {
		t.Fatalf("golden: invalid JSON %q", payload)
	}
	raw := bytes.ReplaceAll(payload, []byte(f.URL()), []byte("{base}"))
	for _, v := range volatile {
		raw = v.re.ReplaceAll(raw, []byte(v.repl))
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(raw), "", "  "); err != nil {
		t.Fatalf("golden: indent: %v", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}
