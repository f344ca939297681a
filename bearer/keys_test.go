package bearer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/socialgate/socialgate/bearer"
	"github.com/socialgate/socialgate/providers/providertest"
)

func TestKeyRotation(t *testing.T) {
	e := newEnv(t, "ES256", nil)
	ctx := context.Background()
	old := e.grant(t)
	if _, err := e.rule.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}
	if n := e.as.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
	// The issuer rotates: the new kid is unknown, the JWKS is fetched again
	// at once (the first refresh since the start), the new token verifies.
	if _, err := e.as.Rotate(); err != nil {
		t.Fatal(err)
	}
	e.now.Advance(time.Minute)
	fresh := e.grant(t)
	if _, err := e.rule.Verify(ctx, fresh); err != nil {
		t.Fatalf("token of the rotated key: %v", err)
	}
	if _, err := e.rule.Verify(ctx, old); err != nil {
		t.Fatalf("token of the old key, still published: %v", err)
	}
	// The old key is retired and another rotation follows: the refresh
	// drops the old key and the tokens it signed, cached or not.
	e.as.Retire()
	if _, err := e.as.Rotate(); err != nil {
		t.Fatal(err)
	}
	e.now.Advance(time.Minute)
	if _, err := e.rule.Verify(ctx, e.grant(t)); err != nil {
		t.Fatalf("token of the third key: %v", err)
	}
	if _, err := e.rule.Verify(ctx, old); !errors.Is(err, bearer.ErrInvalidToken) {
		t.Fatalf("token of the retired key: got %v, want ErrInvalidToken", err)
	}
	if _, err := e.rule.Verify(ctx, fresh); err != nil {
		t.Fatalf("token of the second key, still published: %v", err)
	}
}

func TestUnknownKidRefreshAtMostOncePerMinute(t *testing.T) {
	e := newEnv(t, "ES256", nil)
	ctx := context.Background()
	if _, err := e.rule.Verify(ctx, e.grant(t)); err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	forge := func(i int) string {
		tok, err := providertest.SignJWT(other, jose.ES256,
			map[string]any{"kid": "kid-" + string(rune('a'+i%26)), "typ": "at+jwt"},
			e.as.Claims(batchClient, nil))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	e.now.Advance(time.Minute)
	for i := range 50 {
		if _, err := e.rule.Verify(ctx, forge(i)); !errors.Is(err, bearer.ErrInvalidToken) {
			t.Fatalf("unknown kid: got %v", err)
		}
	}
	if n := e.as.JWKSFetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times after 50 unknown kids in a minute, want 2", n)
	}
	e.now.Advance(59 * time.Second)
	_, _ = e.rule.Verify(ctx, forge(0))
	if n := e.as.JWKSFetches(); n != 2 {
		t.Fatalf("fetched again after 59s: %d", n)
	}
	e.now.Advance(time.Second)
	_, _ = e.rule.Verify(ctx, forge(0))
	if n := e.as.JWKSFetches(); n != 3 {
		t.Fatalf("JWKS fetched %d times a minute later, want 3", n)
	}
}

func TestIssuerKeysUnavailable(t *testing.T) {
	e := newEnv(t, "ES256", nil)
	ctx := context.Background()
	tok := e.grant(t)
	e.as.SetJWKSDown(true)
	if _, err := e.rule.Verify(ctx, tok); !errors.Is(err, bearer.ErrUnavailable) {
		t.Fatalf("issuer down: got %v, want ErrUnavailable", err)
	}
	e.as.SetJWKSDown(false)
	// Not retried before RetryAfter; retried after it.
	if _, err := e.rule.Verify(ctx, tok); !errors.Is(err, bearer.ErrUnavailable) {
		t.Fatalf("right after: got %v, want ErrUnavailable", err)
	}
	e.now.Advance(5 * time.Second)
	if _, err := e.rule.Verify(ctx, tok); err != nil {
		t.Fatalf("after RetryAfter: %v", err)
	}
}

func TestExplicitJWKSURLAndDiscoveryMismatch(t *testing.T) {
	e := newEnv(t, "ES256", nil)
	tok := e.grant(t)
	v, err := bearer.New(bearer.Options{Issuers: []bearer.Issuer{{Issuer: e.as.URL(), JWKSURL: e.as.JWKSURL()}}, Now: e.now.Now})
	if err != nil {
		t.Fatal(err)
	}
	r, err := v.Rule([]bearer.Audience{{Issuer: e.as.URL(), Audiences: []string{"wiki-api"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Verify(context.Background(), tok); err != nil {
		t.Fatalf("explicit jwks_url: %v", err)
	}
	// Discovery that names another issuer (a mix-up) is refused: the
	// configured issuer differs from the metadata's by a path.
	v2, err := bearer.New(bearer.Options{Issuers: []bearer.Issuer{{Issuer: e.as.URL() + "/realms/x"}}, Now: e.now.Now})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := v2.Rule([]bearer.Audience{{Issuer: e.as.URL() + "/realms/x", Audiences: []string{"wiki-api"}}})
	if err != nil {
		t.Fatal(err)
	}
	tok2 := e.sign(t, func(c map[string]any) { c["iss"] = e.as.URL() + "/realms/x" })
	if _, err := r2.Verify(context.Background(), tok2); !errors.Is(err, bearer.ErrUnavailable) {
		t.Fatalf("discovery of another issuer: got %v, want ErrUnavailable", err)
	}
}

// FuzzVerify mutates real tokens through the whole verifier: it must never
// panic, fail only with its two errors, and accept nothing but the exact
// bytes the issuer signed (RS256 signatures are not malleable, and the
// base64 is strict).
func FuzzVerify(f *testing.F) {
	e := newEnv(f, "RS256", nil)
	signed := map[string]bool{}
	for _, edit := range []func(map[string]any){
		nil,
		func(c map[string]any) { c["scp"] = []string{"a", "b"}; delete(c, "scope") },
		func(c map[string]any) { c["aud"] = []string{"wiki-api", "x"}; c["nbf"] = 1 },
	} {
		tok := e.sign(f, edit)
		signed[tok] = true
		f.Add(tok)
	}
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, raw string) {
		_, err := e.rule.Verify(context.Background(), raw)
		switch {
		case err == nil && !signed[raw]:
			t.Fatalf("accepted a token the issuer never signed: %q", raw)
		case err != nil && !errors.Is(err, bearer.ErrInvalidToken) && !errors.Is(err, bearer.ErrUnavailable):
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		for _, cached := range []bool{true, false} {
			name := alg + "/uncached"
			cacheBytes := -1
			if cached {
				name, cacheBytes = alg+"/cached", 0
			}
			b.Run(name, func(b *testing.B) {
				e := newEnv(b, alg, func(o *bearer.Options) { o.CacheBytes = cacheBytes })
				tok := e.grant(b, "wiki.read")
				ctx := context.Background()
				if _, err := e.rule.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := e.rule.Verify(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
