package bearer

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxDocument bounds a discovery document or JWKS read from an issuer.
const maxDocument = 1 << 20

// key is one usable public key of an issuer's JWKS.
type key struct {
	kid string
	alg string // the JWK's alg, "" when it names none
	pub crypto.PublicKey
}

// keySet is one issuer's keys: fetched on first use, kept, and fetched
// again when a token names a kid the set lacks, at most once per
// Options.MinRefresh. Concurrent callers share one fetch.
type keySet struct {
	v       *Verifier
	issuer  string
	jwksURL string // configured, or found by discovery

	mu       sync.Mutex
	keys     []key
	loaded   bool
	tried    time.Time // the last fetch attempt, by v.now
	inflight *fetch
}

// fetch is one JWKS fetch that concurrent callers share.
type fetch struct {
	done chan struct{}
	err  error
}

// find returns the keys that may have signed a token with kid and alg: the
// one with that kid or, for a token without kid, every key of the alg's
// kind. It fetches the JWKS when it has none yet, or when kid is unknown
// and the last fetch is at least MinRefresh old. While no fetch has
// succeeded yet, one is tried at most every RetryAfter (an issuer briefly
// down at start must not lock every client out for a minute).
func (ks *keySet) find(ctx context.Context, kid string, spec algSpec, alg string) ([]key, error) {
	ks.mu.Lock()
	if ks.loaded {
		if found := ks.match(kid, spec, alg); len(found) > 0 {
			ks.mu.Unlock()
			return found, nil
		}
	}
	wait := ks.v.minRefresh
	if !ks.loaded {
		wait = ks.v.retryAfter
	}
	if ks.inflight == nil && !ks.tried.IsZero() && ks.v.now().Sub(ks.tried) < wait {
		ks.mu.Unlock()
		if !ks.loaded {
			return nil, fmt.Errorf("%w: %s: the last fetch failed", ErrUnavailable, ks.issuer)
		}
		return nil, invalid("no key with this kid in the issuer's JWKS")
	}
	f := ks.inflight
	if f == nil {
		f = &fetch{done: make(chan struct{})}
		ks.inflight = f
		ks.tried = ks.v.now()
		// The fetch outlives a caller that gives up (bounded by Timeout),
		// so one impatient client does not fail it for the others.
		go ks.refresh(context.WithoutCancel(ctx), f)
	}
	ks.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %s: %w", ErrUnavailable, ks.issuer, ctx.Err())
	}
	if f.err != nil {
		ks.mu.Lock()
		loaded := ks.loaded
		ks.mu.Unlock()
		if !loaded {
			return nil, fmt.Errorf("%w: %s: %w", ErrUnavailable, ks.issuer, f.err)
		}
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if found := ks.match(kid, spec, alg); len(found) > 0 {
		return found, nil
	}
	return nil, invalid("no key with this kid in the issuer's JWKS")
}

// match lists the candidate keys; ks.mu is held.
func (ks *keySet) match(kid string, spec algSpec, alg string) []key {
	var out []key
	for _, k := range ks.keys {
		if (kid != "" && k.kid != kid) || (k.alg != "" && k.alg != alg) || !spec.fits(k.pub) {
			continue
		}
		out = append(out, k)
	}
	return out
}

// refresh fetches the JWKS (after discovery, the first time, when no
// jwks_url is configured) and replaces the keys. Keys the issuer no longer
// publishes are dropped, and so are the cached tokens they signed.
func (ks *keySet) refresh(ctx context.Context, f *fetch) {
	ctx, cancel := context.WithTimeout(ctx, ks.v.timeout)
	defer cancel()
	keys, err := ks.load(ctx)
	ks.mu.Lock()
	if err == nil {
		ks.keys, ks.loaded = keys, true
	}
	ks.inflight = nil
	f.err = err
	ks.mu.Unlock()
	if err == nil {
		ks.v.cache.dropRetired(ks.issuer, keys)
	}
	close(f.done)
}

func (ks *keySet) load(ctx context.Context) ([]key, error) {
	ks.mu.Lock()
	jwksURL := ks.jwksURL
	ks.mu.Unlock()
	if jwksURL == "" {
		u, err := ks.discover(ctx)
		if err != nil {
			return nil, err
		}
		ks.mu.Lock()
		ks.jwksURL = u
		ks.mu.Unlock()
		jwksURL = u
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := ks.v.getJSON(ctx, jwksURL, &doc); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	var keys []key
	for _, raw := range doc.Keys {
		// One key of a kind this verifier does not know (an encryption
		// key, a new kty) must not discard the others.
		var j jose.JSONWebKey
		if err := j.UnmarshalJSON(raw); err != nil || !j.Valid() {
			continue
		}
		if j.Use != "" && j.Use != "sig" {
			continue
		}
		pub := j.Key
		if !j.IsPublic() {
			pub = j.Public().Key
		}
		keys = append(keys, key{kid: j.KeyID, alg: j.Algorithm, pub: pub})
	}
	if len(keys) == 0 {
		return nil, errors.New("jwks: no usable signing key")
	}
	return keys, nil
}

// discover reads the issuer's metadata: OpenID Connect discovery first
// (what most authorization servers serve), then RFC 8414's
// oauth-authorization-server document. The document must name the
// configured issuer exactly (RFC 8414 3.3), and its jwks_uri must be https
// unless the issuer itself is plain http (loopback tests).
func (ks *keySet) discover(ctx context.Context) (string, error) {
	iss, err := url.Parse(ks.issuer)
	if err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	oidc := strings.TrimSuffix(ks.issuer, "/") + "/.well-known/openid-configuration"
	rfc8414 := iss.Scheme + "://" + iss.Host + "/.well-known/oauth-authorization-server" + strings.TrimSuffix(iss.Path, "/")
	var errs []error
	for _, u := range []string{oidc, rfc8414} {
		var meta struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := ks.v.getJSON(ctx, u, &meta); err != nil {
			errs = append(errs, err)
			continue
		}
		if meta.Issuer != ks.issuer {
			return "", fmt.Errorf("discovery: %s names issuer %q, want %q", u, meta.Issuer, ks.issuer)
		}
		j, err := url.Parse(meta.JWKSURI)
		if err != nil || j.Host == "" || (j.Scheme != "https" && (j.Scheme != "http" || iss.Scheme != "http")) {
			return "", fmt.Errorf("discovery: %s: jwks_uri %q is not an https URL", u, meta.JWKSURI)
		}
		return meta.JWKSURI, nil
	}
	return "", fmt.Errorf("discovery: %w", errors.Join(errs...))
}

// getJSON GETs u and decodes a JSON answer of at most maxDocument bytes.
func (v *Verifier) getJSON(ctx context.Context, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDocument))
		return fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if len(body) > maxDocument {
		return fmt.Errorf("GET %s: larger than %d bytes", u, maxDocument)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}
