package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// maxCodeLen bounds the authorization code taken from the callback URL;
// real codes are well under 1 KiB.
const maxCodeLen = 4096

// Exchange turns the authorization code from the callback into a verified
// Identity and the provider's tokens. a is the AuthRequest that
// NewAuthRequest returned for this login.
//
// Errors wrap ErrCodeRejected when the provider refused the code (reused,
// expired, wrong verifier) or the code is malformed, and ErrProvider when the
// provider failed or its answer did not verify.
func (p *Provider) Exchange(ctx context.Context, code string, a AuthRequest) (Identity, Tokens, error) {
	const op = "exchange"
	if code == "" || len(code) > maxCodeLen {
		return Identity{}, Tokens{}, p.errorf(op, ErrCodeRejected, "malformed code")
	}
	// Missing request secrets are a caller bug, not the provider's fault.
	switch {
	case p.spec.pkce && a.Verifier == "":
		return Identity{}, Tokens{}, fmt.Errorf("%s: %s: auth request has no verifier", p.id, op)
	case p.oidc && a.Nonce == "":
		return Identity{}, Tokens{}, fmt.Errorf("%s: %s: auth request has no nonce", p.id, op)
	case p.spec.stateInExchange && a.State == "":
		return Identity{}, Tokens{}, fmt.Errorf("%s: %s: auth request has no state", p.id, op)
	}
	if p.spec.goth != nil {
		return p.gothExchange(ctx, code, a)
	}
	res, err := p.resolve(ctx)
	if err != nil {
		return Identity{}, Tokens{}, err
	}

	var opts []oauth2.AuthCodeOption
	if res.pkce && a.Verifier != "" {
		opts = append(opts, oauth2.VerifierOption(a.Verifier))
	}
	if p.spec.stateInExchange {
		opts = append(opts, oauth2.SetAuthURLParam("state", a.State))
	}
	cctx, cancel := p.clientContext(ctx)
	tok, err := p.config(res).Exchange(cctx, code, opts...)
	if err != nil {
		err = p.tokenError(cctx, op, err, false, code)
	}
	cancel()
	if err != nil {
		return Identity{}, Tokens{}, err
	}
	t, err := p.tokens(op, tok)
	if err != nil {
		return Identity{}, Tokens{}, err
	}

	var id Identity
	if p.oidc {
		var sub string
		id, sub, err = p.verifyIDToken(ctx, res, t, a.Nonce)
		if err == nil && res.ep.UserinfoURL != "" && p.spec.needUserinfo(id) {
			var ui Identity
			var uiSub string
			ui, uiSub, err = p.userinfo(ctx, res.ep.UserinfoURL, t.AccessToken)
			if err == nil && uiSub != sub {
				err = p.errorf("userinfo", ErrProvider, "sub does not match the id_token")
			}
			id = merge(id, ui)
		}
	} else {
		id, _, err = p.userinfo(ctx, res.ep.UserinfoURL, t.AccessToken)
	}
	if err != nil {
		return Identity{}, Tokens{}, err
	}
	if id, err = p.finish(id); err != nil {
		return Identity{}, Tokens{}, err
	}
	return id, t, nil
}

// Refresh trades a refresh token for new tokens. Providers that do not
// rotate refresh tokens (Naver, Google, Kakao until near expiry) return
// none; the old one is returned then. The result has no IDToken unless the
// provider sent a new one (unverified: it is never used for identity).
//
// Errors wrap ErrInvalidGrant when the provider refused the refresh token
// (the session must end) and ErrProvider otherwise.
func (p *Provider) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	const op = "refresh"
	if refreshToken == "" {
		return Tokens{}, p.errorf(op, ErrInvalidGrant, "no refresh token")
	}
	if p.spec.goth != nil {
		return p.gothRefresh(ctx, refreshToken)
	}
	res, err := p.resolve(ctx)
	if err != nil {
		return Tokens{}, err
	}
	cctx, cancel := p.clientContext(ctx)
	tok, err := p.config(res).TokenSource(cctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		err = p.tokenError(cctx, op, err, true, refreshToken)
	}
	cancel()
	if err != nil {
		return Tokens{}, err
	}
	t, err := p.tokens(op, tok)
	if err != nil {
		return Tokens{}, err
	}
	if t.RefreshToken == "" {
		t.RefreshToken = refreshToken
	}
	return t, nil
}

// tokens converts an x/oauth2 token, with the expiry on our clock.
func (p *Provider) tokens(op string, tok *oauth2.Token) (Tokens, error) {
	if typ := tok.TokenType; typ != "" && !strings.EqualFold(typ, "bearer") {
		return Tokens{}, p.errorf(op, ErrProvider, "unsupported token_type %q", clean(typ))
	}
	t := Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}
	if s, ok := tok.Extra("id_token").(string); ok {
		t.IDToken = s
	}
	switch {
	case tok.ExpiresIn > 0:
		// x/oauth2 reads Naver's string "3600" as a number too.
		t.Expiry = p.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	case !tok.Expiry.IsZero():
		t.Expiry = tok.Expiry
	}
	return t, nil
}

// tokenError maps a token-endpoint failure to ErrCodeRejected or
// ErrInvalidGrant (the provider refused the grant) or ErrProvider. It never
// quotes the response body: x/oauth2's RetrieveError.Error does, and Kakao
// echoes the code in error_description, so secret is redacted too.
func (p *Provider) tokenError(ctx context.Context, op string, err error, refresh bool, secret string) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		if isTransport(err) {
			return p.fail(op, ErrProvider, err)
		}
		if ctx.Err() != nil { // e.g. the body read timed out
			return p.fail(op, ErrProvider, ctx.Err())
		}
		// x/oauth2's other errors are unparsable bodies and a missing
		// access_token; their text may quote the body.
		return p.errorf(op, ErrProvider, "invalid token response")
	}
	var detail string
	if p.spec.tokenErrorCode != nil {
		detail = p.spec.tokenErrorCode(re.Body)
	}
	msg := fmt.Sprintf("status %d", re.Response.StatusCode)
	if re.ErrorCode != "" || detail != "" {
		msg = strings.TrimSpace(clean(re.ErrorCode) + " " + clean(detail))
		if re.ErrorDescription != "" {
			msg += " (" + clean(re.ErrorDescription, secret) + ")"
		}
	}
	sentinel := ErrProvider
	if p.spec.rejected(tokenErr{Code: re.ErrorCode, Detail: detail, Description: re.ErrorDescription, Refresh: refresh}) {
		sentinel = ErrCodeRejected
		if refresh {
			sentinel = ErrInvalidGrant
		}
	}
	return p.errorf(op, sentinel, "%s", msg)
}

// userinfo fetches and maps the provider's profile; sub is its "sub"
// claim (the subject itself for providers without OpenID Connect).
func (p *Provider) userinfo(ctx context.Context, userinfoURL, accessToken string) (Identity, string, error) {
	const op = "userinfo"
	if userinfoURL == "" {
		return Identity{}, "", p.errorf(op, ErrProvider, "no userinfo endpoint")
	}
	req, err := http.NewRequest(http.MethodGet, userinfoURL, nil)
	if err != nil {
		return Identity{}, "", p.fail(op, ErrProvider, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	status, body, err := p.do(ctx, req)
	if err != nil {
		return Identity{}, "", p.fail(op, ErrProvider, err)
	}
	if status != http.StatusOK {
		if p.spec.apiError != nil {
			if d := p.spec.apiError(body); d != "" {
				return Identity{}, "", p.errorf(op, ErrProvider, "status %d: %s", status, d)
			}
		}
		return Identity{}, "", p.errorf(op, ErrProvider, "status %d", status)
	}
	id, sub, err := p.mapClaims(body, true)
	if err != nil {
		return Identity{}, "", p.fail(op, ErrProvider, err)
	}
	return id, sub, nil
}

// mapClaims reads an Identity from verified id_token claims or, with
// userinfo, from the profile endpoint's answer; sub is the "sub" claim.
func (p *Provider) mapClaims(body []byte, userinfo bool) (Identity, string, error) {
	if p.spec.generic {
		return p.claims.mapClaims(body)
	}
	f := p.spec.claims
	if userinfo {
		f = p.spec.profile
	}
	id, err := f(body)
	return id, id.Subject, err
}

// merge completes an id_token identity from userinfo of the same subject.
// The id_token wins; userinfo may only add what it lacks, and may vouch for
// the e-mail only when it names the same address.
func merge(id, ui Identity) Identity {
	switch {
	case id.Email == "":
		id.Email, id.EmailVerified = ui.Email, ui.EmailVerified
	case strings.EqualFold(id.Email, ui.Email):
		id.EmailVerified = id.EmailVerified || ui.EmailVerified
	}
	if id.Name == "" {
		id.Name = ui.Name
	}
	if id.Picture == "" {
		id.Picture = ui.Picture
	}
	return id
}

// finish applies the rules every provider shares.
func (p *Provider) finish(id Identity) (Identity, error) {
	id.Provider = p.id
	if !validSubject(id.Subject) {
		return Identity{}, p.errorf("identity", ErrProvider, "subject is not 1-255 printable ASCII characters")
	}
	switch {
	case id.Email == "":
		id.EmailVerified = false
	case p.opts.TrustEmail:
		id.EmailVerified = true
	}
	return id, nil
}

// validSubject keeps the subject usable in "{provider}:{subject}" headers
// and store keys: OIDC's 255 ASCII characters, no spaces or controls.
func validSubject(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
