package providers

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"slices"

	"github.com/coreos/go-oidc/v3/oidc"
)

// resolved is the provider's endpoints and id_token verifier, fixed in New or
// found by discovery.
type resolved struct {
	ep       Endpoints
	verifier *oidc.IDTokenVerifier // nil unless OIDC
	// pkce: send a PKCE S256 challenge and verifier. The kind decides, or
	// for generic OpenID Connect what the issuer advertises.
	pkce bool
	// tokenAuth and revokeAuth are how the client authenticates at the
	// token and revocation endpoints: authBasic or authPost.
	tokenAuth, revokeAuth string
}

// discovery is one discovery attempt that concurrent callers share.
type discovery struct {
	done chan struct{}
	res  *resolved
	err  error
}

// needsDiscovery: with an issuer set, every endpoint the login uses that
// is not set explicitly comes from {issuer}/.well-known/openid-configuration
// — never from the kind's real URLs, which would send a token issued by one
// issuer to another's host. Only when auth, token, JWKS and userinfo URLs
// are all explicit is there nothing to discover (revoke and end-session are
// then explicit or absent).
func (p *Provider) needsDiscovery() bool {
	e := p.opts.Endpoints
	return p.spec.discovery && p.oidc && e.Issuer != "" &&
		(e.AuthURL == "" || e.TokenURL == "" || e.JWKSURL == "" || e.UserinfoURL == "")
}

// static resolves endpoints without the network: each explicit field wins
// over the real provider's URL.
func (p *Provider) static() *resolved {
	ep, o := p.spec.defaults, p.opts.Endpoints
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&ep.AuthURL, o.AuthURL}, {&ep.TokenURL, o.TokenURL}, {&ep.UserinfoURL, o.UserinfoURL},
		{&ep.Issuer, o.Issuer}, {&ep.JWKSURL, o.JWKSURL}, {&ep.RevokeURL, o.RevokeURL},
		{&ep.EndSessionURL, o.EndSessionURL},
	} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	// Tokens from a mirror or a fake must never be sent to the real
	// provider's revocation endpoint.
	if o.RevokeURL == "" && (o.AuthURL != "" || o.TokenURL != "" || o.Issuer != "") {
		ep.RevokeURL = ""
	}
	// Nor must a browser be sent to the real provider's logout.
	if o.EndSessionURL == "" && (o.AuthURL != "" || o.TokenURL != "" || o.Issuer != "") {
		ep.EndSessionURL = ""
	}
	// Nor an access token from another issuer to the real userinfo (New
	// refuses such options for kinds without discovery; this is the
	// backstop).
	if o.UserinfoURL == "" && o.Issuer != "" && o.Issuer != p.spec.defaults.Issuer {
		ep.UserinfoURL = ""
	}
	res := &resolved{ep: ep, pkce: p.spec.pkce, tokenAuth: p.spec.clientAuth(), revokeAuth: p.spec.clientAuth()}
	// For the issuer https://accounts.google.com, go-oidc itself also
	// accepts old tokens' "accounts.google.com" (and only for that issuer).
	if p.oidc {
		keys := oidc.NewRemoteKeySet(p.keyContext(), ep.JWKSURL)
		res.verifier = oidc.NewVerifier(ep.Issuer, keys, p.verifierConfig())
	}
	return res
}

func (p *Provider) verifierConfig() *oidc.Config {
	return &oidc.Config{ClientID: p.opts.ClientID, Now: p.now}
}

// keyContext configures go-oidc's long-lived JWKS cache: our client, no
// cancellation (go-oidc ignores it there anyway).
func (p *Provider) keyContext() context.Context {
	return oidc.ClientContext(context.Background(), p.client)
}

// resolve returns the endpoints, running discovery if it has not succeeded
// yet. A success is cached; a failure is not, so the next call retries.
// Concurrent callers share one attempt, each waiting at most until its ctx
// is done.
func (p *Provider) resolve(ctx context.Context) (*resolved, error) {
	p.mu.Lock()
	if p.res != nil {
		res := p.res
		p.mu.Unlock()
		return res, nil
	}
	d := p.inflight
	if d == nil {
		d = &discovery{done: make(chan struct{})}
		p.inflight = d
		// The attempt outlives a caller that gives up, bounded by Timeout,
		// so that one impatient request does not fail it for the others.
		go func(ctx context.Context) {
			ctx, cancel := p.clientContext(ctx)
			res, err := p.discover(ctx)
			cancel()
			p.mu.Lock()
			if err == nil {
				p.res = res
			}
			p.inflight = nil
			d.res, d.err = res, err
			p.mu.Unlock()
			close(d.done)
		}(context.WithoutCancel(ctx))
	}
	p.mu.Unlock()
	select {
	case <-d.done:
		return d.res, d.err
	case <-ctx.Done():
		return nil, p.fail("discovery", ErrProvider, ctx.Err())
	}
}

func (p *Provider) discover(ctx context.Context) (*resolved, error) {
	const op = "discovery"
	o := p.opts.Endpoints
	op2, err := oidc.NewProvider(ctx, o.Issuer)
	var mismatch *oidc.IssuerMismatchError
	if errors.As(err, &mismatch) {
		// go-oidc's message quotes the configured issuer first, so clean's
		// limit cut off the document's, the one value the operator needs:
		// real issuers differ by no more than a trailing slash (zitadel's
		// example OP names itself http://localhost:9998/).
		return nil, p.errorf(op, ErrProvider, "the document's issuer is %q, the configured one %q: they must be identical, trailing slash included",
			clean(mismatch.Discovered), o.Issuer)
	}
	if err != nil {
		return nil, p.fail(op, ErrProvider, err)
	}
	var doc struct {
		JWKSURL     string   `json:"jwks_uri"`
		RevokeURL   string   `json:"revocation_endpoint"`
		EndSession  string   `json:"end_session_endpoint"`
		PKCE        []string `json:"code_challenge_methods_supported"`
		TokenAuth   []string `json:"token_endpoint_auth_methods_supported"`
		RevokeAuth  []string `json:"revocation_endpoint_auth_methods_supported"`
		SigningAlgs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := op2.Claims(&doc); err != nil {
		return nil, p.fail(op, ErrProvider, err)
	}
	ep := Endpoints{
		Issuer:      o.Issuer,
		AuthURL:     op2.Endpoint().AuthURL,
		TokenURL:    op2.Endpoint().TokenURL,
		UserinfoURL: op2.UserInfoEndpoint(),
		JWKSURL:     doc.JWKSURL,
		RevokeURL:   doc.RevokeURL,

		EndSessionURL: doc.EndSession,
	}
	// An endpoint set explicitly wins over the discovered one.
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&ep.AuthURL, o.AuthURL}, {&ep.TokenURL, o.TokenURL}, {&ep.UserinfoURL, o.UserinfoURL},
		{&ep.JWKSURL, o.JWKSURL}, {&ep.RevokeURL, o.RevokeURL}, {&ep.EndSessionURL, o.EndSessionURL},
	} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	res := &resolved{ep: ep, pkce: p.spec.pkce}
	if p.spec.generic {
		res.pkce = slices.Contains(doc.PKCE, "S256")
	}
	// Advertised methods, in the kind's order of preference; none
	// advertised means OpenID Connect's default, client_secret_basic.
	if res.tokenAuth = pickAuth(doc.TokenAuth, p.spec.clientAuth()); res.tokenAuth == "" {
		return nil, p.errorf(op, ErrProvider, "the issuer takes neither client_secret_basic nor client_secret_post")
	}
	revokeAuth := doc.RevokeAuth
	if len(revokeAuth) == 0 {
		revokeAuth = doc.TokenAuth
	}
	if res.revokeAuth = pickAuth(revokeAuth, p.spec.clientAuth()); res.revokeAuth == "" {
		res.revokeAuth = res.tokenAuth
	}
	for _, f := range []struct{ name, v string }{
		{"authorization_endpoint", ep.AuthURL}, {"token_endpoint", ep.TokenURL}, {"jwks_uri", ep.JWKSURL},
	} {
		if checkURL(f.v) != nil {
			return nil, p.errorf(op, ErrProvider, "bad %s", f.name)
		}
	}
	for _, u := range []*string{&ep.UserinfoURL, &ep.RevokeURL, &ep.EndSessionURL} {
		if *u != "" && checkURL(*u) != nil {
			*u = "" // optional endpoints: unusable means absent
		}
	}
	if o.JWKSURL != "" {
		cfg := p.verifierConfig()
		cfg.SupportedSigningAlgs = doc.SigningAlgs
		res.verifier = oidc.NewVerifier(ep.Issuer, oidc.NewRemoteKeySet(p.keyContext(), ep.JWKSURL), cfg)
	} else {
		// VerifierContext also takes the signing algorithms from the document.
		res.verifier = op2.VerifierContext(p.keyContext(), p.verifierConfig())
	}
	return res, nil
}

// verifyIDToken checks the id_token's signature (JWKS), issuer, audience and
// expiry (go-oidc), then the nonce, azp and at_hash, and maps its claims.
func (p *Provider) verifyIDToken(ctx context.Context, res *resolved, t Tokens, nonce string) (Identity, string, error) {
	const op = "id_token"
	if t.IDToken == "" {
		return Identity{}, "", p.errorf(op, ErrProvider, "missing from token response")
	}
	vctx, cancel := p.clientContext(ctx)
	defer cancel()
	tok, err := res.verifier.Verify(vctx, t.IDToken)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return Identity{}, "", p.errorf(op, ErrProvider, "expired")
		}
		return Identity{}, "", p.fail(op, ErrProvider, err)
	}
	if subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(nonce)) != 1 {
		return Identity{}, "", p.errorf(op, ErrProvider, "nonce mismatch")
	}
	if tok.AccessTokenHash != "" {
		if err := tok.VerifyAccessToken(t.AccessToken); err != nil {
			return Identity{}, "", p.errorf(op, ErrProvider, "at_hash mismatch")
		}
	}
	var raw json.RawMessage
	if err := tok.Claims(&raw); err != nil {
		return Identity{}, "", p.fail(op, ErrProvider, err)
	}
	var az struct {
		AZP string `json:"azp"`
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(raw, &az); err != nil {
		return Identity{}, "", p.errorf(op, ErrProvider, "bad azp or sid claim")
	}
	// OIDC Core 3.1.3.7: with several audiences the token must say it was
	// issued to us; when it names a party, that must be us.
	if (len(tok.Audience) > 1 && az.AZP == "") || (az.AZP != "" && az.AZP != p.opts.ClientID) {
		return Identity{}, "", p.errorf(op, ErrProvider, "azp is not the client_id")
	}
	id, sub, err := p.mapClaims(raw, false)
	if err != nil {
		return Identity{}, "", p.fail(op, ErrProvider, err)
	}
	if sub != tok.Subject {
		return Identity{}, "", p.errorf(op, ErrProvider, "sub mismatch")
	}
	if len(az.SID) <= maxSIDLen {
		id.SID = az.SID // an absurd one is dropped: back-channel logout by sub still works
	}
	return id, sub, nil
}
