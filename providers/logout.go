package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Logout that reaches the provider, both ways: RP-initiated logout sends
// the browser to the provider's end-session page after the gateway signed it
// out (OpenID Connect RP-Initiated Logout 1.0, Kakao's account logout), and
// back-channel logout is the provider telling the gateway, server to server,
// that a user's session there ended (OpenID Connect Back-Channel Logout
// 1.0).

var (
	// ErrNoLogout means the provider has no end-session endpoint: Naver has
	// no logout at all, and an OpenID Connect issuer may advertise none
	// (Google does not). The gateway then signs out locally only.
	ErrNoLogout = errors.New("provider has no end-session endpoint")
	// ErrBadLogoutToken means a back-channel logout token failed
	// verification; the issuer gets 400.
	ErrBadLogoutToken = errors.New("invalid logout token")
)

// BackchannelLogoutEvent is the member of a logout token's events claim
// that makes it one (Back-Channel Logout 1.0 §2.4).
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// Logout token time limits. A logout token is sent the moment the session at
// the issuer ends, so one issued long ago is refused even when its exp is
// far away: the jti of every accepted token must be remembered until the
// token would be refused anyway, and this bounds that memory.
const (
	// LogoutTokenMaxAge is how old (by iat) a logout token may be.
	LogoutTokenMaxAge = 5 * time.Minute
	// logoutLeeway absorbs clock skew between the issuer and the gateway.
	logoutLeeway = time.Minute
)

// LogoutRequest is what RP-initiated logout sends along.
type LogoutRequest struct {
	// IDTokenHint is the id_token of the session being ended, when it was
	// kept; OpenID Connect issuers use it to know whom to sign out without
	// asking. Kakao takes none.
	IDTokenHint string
	// PostLogoutRedirectURI is where the provider sends the browser back:
	// the gateway's signed-out page. It must be registered at the provider
	// (Kakao: "Logout Redirect URI").
	PostLogoutRedirectURI string
	// State is returned to PostLogoutRedirectURI unchanged.
	State string
}

// supportsLogout reports whether the provider's kind has RP-initiated
// logout at all. An OpenID Connect issuer may still turn out to advertise
// no end_session_endpoint, which LogoutURL reports.
func (p *Provider) supportsLogout() bool { return p.oidc || p.spec.name == "kakao" }

// LogoutEnabled reports whether sign-out should continue at the provider:
// Options.Logout on a kind that has logout.
func (p *Provider) LogoutEnabled() bool { return p.opts.Logout && p.supportsLogout() }

// WantsIDTokenHint reports whether sessions should keep the id_token for
// LogoutURL's id_token_hint: OpenID Connect logout only (Kakao's account
// logout takes none). Otherwise the id_token is not worth keeping.
func (p *Provider) WantsIDTokenHint() bool { return p.LogoutEnabled() && p.spec.name != "kakao" }

// LogoutURL is the provider's end-session URL for r: for Kakao its account
// logout (client_id, logout_redirect_uri, state), for OpenID Connect the
// discovered end_session_endpoint (client_id, post_logout_redirect_uri,
// id_token_hint, state). It may run discovery first. ErrNoLogout when the
// provider has no such endpoint.
func (p *Provider) LogoutURL(ctx context.Context, r LogoutRequest) (string, error) {
	if !p.supportsLogout() {
		return "", ErrNoLogout
	}
	res, err := p.resolve(ctx)
	if err != nil {
		return "", err
	}
	end := res.ep.EndSessionURL
	if end == "" {
		return "", ErrNoLogout
	}
	u, err := url.Parse(end)
	if err != nil {
		return "", p.errorf("logout", ErrProvider, "bad end-session URL")
	}
	q := u.Query()
	q.Set("client_id", p.opts.ClientID)
	if p.spec.name == "kakao" {
		// Kakao's account logout is not OIDC's: it takes no id_token and
		// names its redirect logout_redirect_uri.
		q.Set("logout_redirect_uri", r.PostLogoutRedirectURI)
	} else {
		q.Set("post_logout_redirect_uri", r.PostLogoutRedirectURI)
		if r.IDTokenHint != "" {
			q.Set("id_token_hint", r.IDTokenHint)
		}
	}
	if r.State != "" {
		q.Set("state", r.State)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// LogoutToken is a verified back-channel logout token.
type LogoutToken struct {
	Issuer string
	// Subject and SessionID name what ended: the session sid at the
	// issuer, else every session of Subject. At least one is set.
	Subject   string
	SessionID string
	// JTI is the token's unique ID. The caller must refuse a JTI it has
	// seen before (replay), remembering it until RememberUntil: past that
	// instant VerifyLogoutToken refuses the token anyway.
	JTI           string
	IssuedAt      time.Time
	RememberUntil time.Time
}

// logoutClaims are the claims VerifyLogoutToken reads beyond go-oidc's.
type logoutClaims struct {
	Sub    *string                    `json:"sub"`
	SID    *string                    `json:"sid"`
	JTI    *string                    `json:"jti"`
	IAT    *json.Number               `json:"iat"`
	Nonce  json.RawMessage            `json:"nonce"`
	Events map[string]json.RawMessage `json:"events"`
}

// VerifyLogoutToken checks a back-channel logout token as Back-Channel
// Logout 1.0 §2.6 asks: signed by the issuer's keys with an asymmetric
// algorithm (an unsigned token is refused), iss the issuer, aud holding our
// client_id, exp not passed, iat present and recent, a jti, an events claim
// whose backchannel-logout member is a JSON object, no nonce (so an id_token
// cannot pass for one), and sub or sid. Every failure wraps
// ErrBadLogoutToken; a failure to reach the issuer's keys wraps ErrProvider.
// Replay (a JTI seen before) is the caller's to check.
func (p *Provider) VerifyLogoutToken(ctx context.Context, raw string) (LogoutToken, error) {
	const op = "logout_token"
	if !p.oidc {
		return LogoutToken{}, p.errorf(op, ErrBadLogoutToken, "provider is not OpenID Connect")
	}
	if raw == "" || len(raw) > maxLogoutToken {
		return LogoutToken{}, p.errorf(op, ErrBadLogoutToken, "missing or oversized")
	}
	res, err := p.resolve(ctx)
	if err != nil {
		return LogoutToken{}, err
	}
	vctx, cancel := p.clientContext(ctx)
	defer cancel()
	tok, err := res.verifier.Verify(vctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return LogoutToken{}, p.errorf(op, ErrBadLogoutToken, "expired")
		}
		if isTransport(err) {
			return LogoutToken{}, p.fail(op, ErrProvider, err)
		}
		return LogoutToken{}, p.errorf(op, ErrBadLogoutToken, "%s", clean(err.Error()))
	}
	var c logoutClaims
	if err := tok.Claims(&c); err != nil {
		return LogoutToken{}, p.errorf(op, ErrBadLogoutToken, "bad claims")
	}
	return p.checkLogoutClaims(tok.Issuer, tok.Expiry, c)
}

// maxLogoutToken bounds the token a caller may hand over; real ones are
// well under 2 KB.
const maxLogoutToken = 16 << 10

// checkLogoutClaims applies the rules go-oidc does not know.
func (p *Provider) checkLogoutClaims(iss string, exp time.Time, c logoutClaims) (LogoutToken, error) {
	const op = "logout_token"
	bad := func(why string) (LogoutToken, error) {
		return LogoutToken{}, p.errorf(op, ErrBadLogoutToken, "%s", why)
	}
	ev, ok := c.Events[BackchannelLogoutEvent]
	switch {
	case !ok:
		return bad("no backchannel-logout event")
	case !isJSONObject(ev):
		return bad("backchannel-logout event is not an object")
	case c.Nonce != nil:
		return bad("has a nonce")
	case c.JTI == nil || *c.JTI == "" || len(*c.JTI) > 256:
		return bad("no jti")
	case c.IAT == nil:
		return bad("no iat")
	}
	if c.Sub != nil && (*c.Sub == "" || len(*c.Sub) > 255) || c.SID != nil && (*c.SID == "" || len(*c.SID) > 255) {
		return bad("empty or oversized sub or sid")
	}
	if c.Sub == nil && c.SID == nil {
		return bad("neither sub nor sid")
	}
	secs, err := c.IAT.Float64()
	if err != nil || secs < 0 || secs > 1<<40 {
		return bad("bad iat")
	}
	iat := time.Unix(int64(secs), 0)
	now := p.now()
	switch {
	case iat.After(now.Add(logoutLeeway)):
		return bad("issued in the future")
	case now.Sub(iat) > LogoutTokenMaxAge+logoutLeeway:
		return bad("issued too long ago")
	}
	until := iat.Add(LogoutTokenMaxAge + logoutLeeway)
	if exp.Before(until) {
		until = exp
	}
	t := LogoutToken{Issuer: iss, JTI: *c.JTI, IssuedAt: iat, RememberUntil: until.Add(logoutLeeway)}
	if c.Sub != nil {
		t.Subject = *c.Sub
	}
	if c.SID != nil {
		t.SessionID = *c.SID
	}
	return t, nil
}

// isJSONObject reports whether raw is a JSON object ({} or with members).
func isJSONObject(raw json.RawMessage) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(raw, &m) == nil && m != nil
}

// String names the token for logs without its JTI.
func (t LogoutToken) String() string {
	return fmt.Sprintf("logout token (sub %t, sid %t)", t.Subject != "", t.SessionID != "")
}
