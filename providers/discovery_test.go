package providers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// discoveryDoc serves a discovery document for s, counting hits.
type discoveryDoc struct {
	mu     sync.Mutex
	hits   int
	status int
	issuer string // "" means s.URL
	gate   chan struct{}
}

func (d *discoveryDoc) handler(s *server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.hits++
		status, issuer, gate := d.status, d.issuer, d.gate
		d.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		if issuer == "" {
			issuer = s.URL
		}
		if status != 200 {
			w.WriteHeader(status)
			return
		}
		replyJSON(200, map[string]any{
			"issuer":                                issuer,
			"authorization_endpoint":                s.URL + "/authorize",
			"token_endpoint":                        s.URL + "/token",
			"userinfo_endpoint":                     s.URL + "/userinfo",
			"revocation_endpoint":                   s.URL + "/revoke",
			"jwks_uri":                              s.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})(w, r)
	}
}

func (d *discoveryDoc) set(status int, issuer string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.status, d.issuer = status, issuer
}

func (d *discoveryDoc) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.hits
}

func discoveryFixture(t *testing.T, timeout time.Duration) (*oidcFixture, *discoveryDoc) {
	f := newOIDCFixture(t, Options{Name: "google", Timeout: timeout}, func(e *Endpoints) {
		*e = Endpoints{Issuer: e.Issuer}
	})
	d := &discoveryDoc{status: 200}
	f.s.handle("/.well-known/openid-configuration", d.handler(f.s))
	return f, d
}

func TestDiscovery(t *testing.T) {
	f, d := discoveryFixture(t, 0)
	if n := d.count(); n != 0 {
		t.Fatalf("got %d discovery requests after New, want 0", n)
	}
	a := f.p.NewAuthRequest()
	u, err := f.p.AuthURLContext(context.Background(), a)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if !strings.HasPrefix(u, f.s.URL+"/authorize?") {
		t.Errorf("got AuthURL %q, want the discovered endpoint", u)
	}
	id, tok, err := f.exchange(t, a, signIDToken(t, testKey(), "k1", f.claims(a)))
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if id.Subject != googleSub {
		t.Errorf("got subject %q, want %q", id.Subject, googleSub)
	}
	f.s.handle("/revoke", reply(200, nil))
	if err := f.p.Revoke(context.Background(), tok); err != nil {
		t.Fatalf("revoke: got error %v, want none", err)
	}
	if n := len(f.s.requests("/revoke")); n != 1 {
		t.Errorf("got %d requests to the discovered revocation_endpoint, want 1", n)
	}
	if n := d.count(); n != 1 {
		t.Errorf("got %d discovery requests, want 1 (cached)", n)
	}
}

func TestDiscoveryFailureIsRetried(t *testing.T) {
	f, d := discoveryFixture(t, 0)
	d.set(500, "")
	if u := authURL(f.p, f.p.NewAuthRequest()); u != "" {
		t.Errorf("got AuthURL %q while discovery fails, want \"\"", u)
	}
	_, _, err := f.exchange(t, f.p.NewAuthRequest(), "x")
	if !errors.Is(err, ErrProvider) {
		t.Fatalf("got error %v, want ErrProvider", err)
	}
	if n := len(f.s.requests("/token")); n != 0 {
		t.Errorf("got %d token requests without endpoints, want 0", n)
	}
	d.set(200, "")
	if _, err := f.p.AuthURLContext(context.Background(), f.p.NewAuthRequest()); err != nil {
		t.Fatalf("after recovery: got error %v, want none", err)
	}
	d.set(500, "")
	if _, err := f.p.AuthURLContext(context.Background(), f.p.NewAuthRequest()); err != nil {
		t.Fatalf("after success: got error %v, want the cached result", err)
	}
	if n := d.count(); n != 3 {
		t.Errorf("got %d discovery requests, want 3 (two failures, one success)", n)
	}
}

func TestDiscoveryIssuerMismatch(t *testing.T) {
	f, d := discoveryFixture(t, 0)
	d.set(200, "https://evil.example")
	_, err := f.p.AuthURLContext(context.Background(), f.p.NewAuthRequest())
	if !errors.Is(err, ErrProvider) {
		t.Fatalf("got error %v, want ErrProvider", err)
	}
}

// TestDiscoveryIssuerMismatchNamesBoth: when the document's issuer differs
// from the configured one, the error names both in full, the document's
// first — it is the value to configure. zitadel's example OP names its
// issuer with a trailing slash (http://localhost:9998/), and go-oidc's own
// message, cut to clean's 120 runes, lost exactly that part. What the
// issuer sent stays printable and bounded.
func TestDiscoveryIssuerMismatchNamesBoth(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
	}{
		{"trailing slash", "/"},
		{"hostile", "/\x00" + strings.Repeat("a", 500)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, d := discoveryFixture(t, 0)
			d.set(200, f.s.URL+tc.doc)
			// The document's issuer, printable and at most 120 runes.
			want := f.s.URL + strings.ReplaceAll(tc.doc, "\x00", "")
			if len(want) > 120 {
				want = want[:120] + "…"
			}
			_, err := f.p.AuthURLContext(context.Background(), f.p.NewAuthRequest())
			if !errors.Is(err, ErrProvider) {
				t.Fatalf("got error %v, want ErrProvider", err)
			}
			msg := err.Error()
			for _, s := range []string{strconv.Quote(want), strconv.Quote(f.s.URL)} {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not name %s", msg, s)
				}
			}
			if strings.ContainsRune(msg, 0) || len(msg) > 400 {
				t.Errorf("error not cleaned: %d bytes %q", len(msg), msg)
			}
		})
	}
}

func TestDiscoveryTimeout(t *testing.T) {
	f, d := discoveryFixture(t, 50*time.Millisecond)
	d.gate = make(chan struct{}) // never opens: the client must give up
	start := time.Now()
	_, err := f.p.AuthURLContext(context.Background(), f.p.NewAuthRequest())
	if !errors.Is(err, ErrProvider) {
		t.Fatalf("got error %v, want ErrProvider", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v, want the 50ms timeout to end it", el)
	}
}

func TestDiscoveryShared(t *testing.T) {
	f, d := discoveryFixture(t, 0)
	gate := make(chan struct{})
	d.mu.Lock()
	d.gate = gate
	d.mu.Unlock()
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := f.p.AuthURLContext(context.Background(), f.p.NewAuthRequest())
			errs <- err
		}()
	}
	close(gate)
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("got error %v, want none", err)
		}
	}
	if got := d.count(); got != 1 {
		t.Errorf("got %d discovery requests from %d callers, want 1", got, n)
	}
}

func TestDiscoveryCallerGivesUp(t *testing.T) {
	f, d := discoveryFixture(t, 0)
	gate := make(chan struct{})
	d.mu.Lock()
	d.gate = gate
	d.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.p.AuthURLContext(ctx, f.p.NewAuthRequest()); !errors.Is(err, context.Canceled) {
		t.Fatalf("got error %v, want context.Canceled", err)
	}
	close(gate)
	// The attempt the impatient caller started still completes for others.
	if _, err := f.p.AuthURLContext(context.Background(), f.p.NewAuthRequest()); err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if got := d.count(); got != 1 {
		t.Errorf("got %d discovery requests, want 1", got)
	}
}
