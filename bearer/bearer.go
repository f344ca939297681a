// Package bearer verifies the JWT access tokens that machine clients
// (scripts, batch jobs, other services using the OAuth 2.0
// client-credentials grant) send as "Authorization: Bearer …".
//
// A token is accepted only when it is a compact JWS in the shape of RFC
// 9068 (typ at+jwt, or JWT), signed with an asymmetric algorithm (RS*, PS*,
// ES*, EdDSA; never none or HS*) by a key from its issuer's JWKS, from a
// configured issuer, for one of the route's audiences, with an exp that
// has not passed and an nbf that has (both with a small leeway). The JWKS
// is fetched lazily, kept, and fetched again when a token names an unknown
// kid, at most once per minute per issuer. Verified tokens are cached by
// their exact bytes until they expire, so a client that reuses its token
// (as the grant intends) costs one map lookup per request.
//
// One Verifier serves the whole gateway (the JWKS and the cache are per
// issuer and per token, not per route); each route asks through its Rule,
// which holds the route's issuers and audiences.
package bearer

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ErrInvalidToken is a token that must be refused (RFC 6750 invalid_token):
// malformed, badly signed, expired, not yet valid, from another issuer or
// for another audience. Errors wrapping it say why, never quoting the token.
var ErrInvalidToken = errors.New("invalid bearer token")

// ErrUnavailable means the issuer's keys could not be fetched, so the token
// could not be judged: the gateway's problem (503), not the client's.
var ErrUnavailable = errors.New("bearer: issuer keys unavailable")

// Issuer is one authorization server whose tokens may be accepted.
type Issuer struct {
	// Issuer is the iss value, exactly as the tokens carry it. Required.
	Issuer string
	// JWKSURL is where its keys are; zero: from the issuer's metadata
	// (OpenID discovery, else RFC 8414).
	JWKSURL string
}

// Options configure a Verifier.
type Options struct {
	// Issuers every route may name; at least one, each once.
	Issuers []Issuer
	// HTTPClient fetches metadata and keys; zero: a client with Timeout.
	HTTPClient *http.Client
	// Timeout bounds one fetch (discovery and JWKS together); zero: 10s.
	Timeout time.Duration
	// Now is the clock for exp, nbf, the cache and the refresh limit;
	// zero: time.Now.
	Now func() time.Time
	// Leeway tolerates clock skew on exp and nbf; zero: 30s.
	Leeway time.Duration
	// MinRefresh is the least time between two JWKS fetches of one issuer
	// caused by unknown kids; zero: 1 minute.
	MinRefresh time.Duration
	// RetryAfter is the least time between fetches while an issuer's keys
	// could not be fetched at all; zero: 5s.
	RetryAfter time.Duration
	// CacheBytes bounds the cache of verified tokens; zero: 8 MiB,
	// negative: no cache.
	CacheBytes int
}

// Verifier checks bearer tokens against the configured issuers. It is
// safe for concurrent use.
type Verifier struct {
	client     *http.Client
	timeout    time.Duration
	now        func() time.Time
	leeway     time.Duration
	minRefresh time.Duration
	retryAfter time.Duration
	issuers    map[string]*keySet
	cache      *tokenCache
}

// New checks o and returns a Verifier. It makes no network calls.
func New(o Options) (*Verifier, error) {
	if len(o.Issuers) == 0 {
		return nil, errors.New("bearer: no issuers")
	}
	v := &Verifier{
		client:     o.HTTPClient,
		timeout:    orDefault(o.Timeout, 10*time.Second),
		now:        o.Now,
		leeway:     orDefault(o.Leeway, 30*time.Second),
		minRefresh: orDefault(o.MinRefresh, time.Minute),
		retryAfter: orDefault(o.RetryAfter, 5*time.Second),
		issuers:    map[string]*keySet{},
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: v.timeout}
	}
	size := o.CacheBytes
	if size == 0 {
		size = 8 << 20
	}
	v.cache = newTokenCache(size)
	for _, is := range o.Issuers {
		if err := checkURL(is.Issuer); err != nil {
			return nil, fmt.Errorf("bearer: issuer %q: %w", is.Issuer, err)
		}
		if is.JWKSURL != "" {
			if err := checkURL(is.JWKSURL); err != nil {
				return nil, fmt.Errorf("bearer: issuer %q: jwks_url: %w", is.Issuer, err)
			}
		}
		if _, dup := v.issuers[is.Issuer]; dup {
			return nil, fmt.Errorf("bearer: issuer %q given twice", is.Issuer)
		}
		v.issuers[is.Issuer] = &keySet{v: v, issuer: is.Issuer, jwksURL: is.JWKSURL}
	}
	return v, nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("must be an absolute http(s) URL")
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Token is a verified access token. The verifier hands the same *Token to
// every request that sends the same bytes: read it, never change it.
type Token struct {
	Issuer   string
	Audience []string
	// ClientID is the client the token was issued to: the client_id
	// claim, else azp, else sub.
	ClientID string
	Subject  string
	// Scopes granted: the scope claim split on spaces, else scp.
	Scopes []string
	// ScopeText is Scopes joined by single spaces, made once.
	ScopeText string
	Expiry    time.Time

	validUntil time.Time        // Expiry plus the leeway
	key        crypto.PublicKey // the key that signed it
}

// HasScopes reports whether the token grants every scope in want.
func (t *Token) HasScopes(want []string) bool {
	for _, w := range want {
		if !slices.Contains(t.Scopes, w) {
			return false
		}
	}
	return true
}

// Audience is what one route accepts of one issuer.
type Audience struct {
	// Issuer must be one of Options.Issuers.
	Issuer string
	// Audiences: the token's aud must contain one of them. At least one.
	Audiences []string
}

// Rule is one route's view of the Verifier: its issuers and audiences.
type Rule struct {
	v   *Verifier
	aud map[string][]string // issuer → audiences
}

// Rule prepares the check of one route.
func (v *Verifier) Rule(accept []Audience) (*Rule, error) {
	if len(accept) == 0 {
		return nil, errors.New("bearer: a rule needs at least one issuer")
	}
	r := &Rule{v: v, aud: map[string][]string{}}
	for _, a := range accept {
		if _, ok := v.issuers[a.Issuer]; !ok {
			return nil, fmt.Errorf("bearer: issuer %q is not configured", a.Issuer)
		}
		if len(a.Audiences) == 0 {
			return nil, fmt.Errorf("bearer: issuer %q: at least one audience is required", a.Issuer)
		}
		r.aud[a.Issuer] = append(r.aud[a.Issuer], a.Audiences...)
	}
	return r, nil
}

// Verify returns the verified token, or an error wrapping ErrInvalidToken
// (refuse it: 401) or ErrUnavailable (the issuer's keys could not be
// fetched: 503).
func (r *Rule) Verify(ctx context.Context, raw string) (*Token, error) {
	t, err := r.v.verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	auds, ok := r.aud[t.Issuer]
	if !ok {
		return nil, invalid("issuer not accepted on this route")
	}
	for _, a := range t.Audience {
		if slices.Contains(auds, a) {
			return t, nil
		}
	}
	return nil, invalid("audience not accepted on this route")
}

// verify checks everything but the route's audiences, from the cache when
// the same bytes were verified before.
func (v *Verifier) verify(ctx context.Context, raw string) (*Token, error) {
	now := v.now()
	if t := v.cache.get(raw, now); t != nil {
		return t, nil
	}
	j, err := parseJWS(raw)
	if err != nil {
		return nil, err
	}
	// The issuer picks the JWKS, so it is read before the signature is
	// checked; nothing else of the payload is believed until then.
	var peek struct {
		Iss string `json:"iss"`
	}
	if strictJSON(j.payload, &peek) != nil {
		return nil, invalid("claims are not a JSON object")
	}
	ks, ok := v.issuers[peek.Iss]
	if !ok {
		return nil, invalid("issuer not configured")
	}
	spec := algs[j.header.Alg]
	keys, err := ks.find(ctx, j.header.Kid, spec, j.header.Alg)
	if err != nil {
		return nil, err
	}
	var signer crypto.PublicKey
	for _, k := range keys {
		if spec.verify(k.pub, j.signingInput, j.signature) {
			signer = k.pub
			break
		}
	}
	if signer == nil {
		return nil, invalid("bad signature")
	}
	c, err := parseClaims(j.payload)
	if err != nil {
		return nil, err
	}
	t, err := v.check(c, now)
	if err != nil {
		return nil, err
	}
	t.key = signer
	v.cache.put(raw, t, now)
	return t, nil
}

// check validates the claims of a correctly signed token.
func (v *Verifier) check(c *claims, now time.Time) (*Token, error) {
	switch {
	case c.Exp == nil:
		return nil, invalid("no exp")
	case !now.Before(c.Exp.t.Add(v.leeway)):
		return nil, invalid("expired")
	case c.Nbf != nil && now.Add(v.leeway).Before(c.Nbf.t):
		return nil, invalid("not yet valid")
	case len(c.Aud) == 0:
		return nil, invalid("no aud")
	}
	t := &Token{
		Issuer:     c.Iss,
		Audience:   c.Aud,
		ClientID:   c.clientID(),
		Subject:    c.Sub,
		Scopes:     c.scopes(),
		Expiry:     c.Exp.t,
		validUntil: c.Exp.t.Add(v.leeway),
	}
	if t.ClientID == "" {
		return nil, invalid("no client_id, azp or sub")
	}
	t.ScopeText = strings.Join(t.Scopes, " ")
	return t, nil
}

// Issuers lists the configured issuers, in no particular order.
func (v *Verifier) Issuers() []string {
	out := make([]string, 0, len(v.issuers))
	for is := range v.issuers {
		out = append(out, is)
	}
	return out
}

// CheckIssuer fetches the issuer's metadata (when no JWKS URL is
// configured) and JWKS now, for check-config --connect, and reports where
// the keys are and how many are usable. It does not replace the keys the
// Verifier holds.
func (v *Verifier) CheckIssuer(ctx context.Context, issuer string) (jwksURL string, keys int, err error) {
	ks, ok := v.issuers[issuer]
	if !ok {
		return "", 0, fmt.Errorf("bearer: issuer %q is not configured", issuer)
	}
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	got, err := ks.load(ctx)
	ks.mu.Lock()
	jwksURL = ks.jwksURL
	ks.mu.Unlock()
	return jwksURL, len(got), err
}
