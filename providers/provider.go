package providers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// DefaultTimeout bounds each outbound call when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Options configure one Provider.
type Options struct {
	// Name is the instance id ("google", "corp", "google-work"): it names
	// the instance in routes, user keys ("{id}:{subject}") and errors. It
	// must match [a-z0-9][a-z0-9_-]*.
	Name string
	// Kind picks the provider kind (see Kinds): "google", "naver",
	// "kakao", "oidc" or a goth provider name. Zero: Name, which must then
	// name a kind.
	Kind string
	// DisplayName is the button label. Zero: the kind's name ("Google").
	DisplayName string
	// ClientID is required.
	ClientID string
	// ClientSecret is required for Google and Naver. Kakao: optional; sent
	// only in the form body, and only when set.
	ClientSecret string
	// Scopes zero: the provider's defaults (Google "openid email profile";
	// Kakao none, i.e. the consent items set in the console). Naver takes no
	// scopes. OpenID Connect providers always get "openid" added.
	Scopes []string
	// RedirectURL is the absolute callback URL,
	// {public_url}/oauth2/callback/{name}. Required.
	RedirectURL string
	// Endpoints zero fields: the real provider's URLs.
	Endpoints Endpoints
	// TrustEmail (Naver only) treats the e-mail as verified; Naver verifies
	// account e-mail itself but says so nowhere on the wire.
	TrustEmail bool
	// OIDC (Kakao only) uses OpenID Connect and verifies the id_token.
	// Google is always OpenID Connect; Naver never.
	OIDC bool
	// Logout: the gateway's sign-out continues at the provider's
	// end-session page (logout.go). Kakao and OpenID Connect only.
	Logout bool
	// AdminKey (Kakao only) is the app's Admin key, which Kakao sends with
	// its unlink callback (unlink.go). Zero: the callback is refused.
	AdminKey string
	// Claims (kind "oidc" only) names the claims the Identity is read
	// from; zero fields: sub, email, email_verified, name, picture.
	Claims Claims
	// AutoLogin (Kakao only): inside KakaoTalk's in-app browser the gateway
	// first tries a silent login (prompt=none); see Provider.AutoLogin.
	AutoLogin bool
	// HTTPClient zero: &http.Client{Timeout: Timeout}.
	HTTPClient *http.Client
	// Timeout bounds each outbound call. Zero: DefaultTimeout.
	Timeout time.Duration
	// Now zero: time.Now. Used for token expiry and id_token checks.
	Now func() time.Time
}

// Endpoints override the provider's URLs (private mirrors, tests). A zero
// field means the real provider's URL.
//
// For OpenID Connect providers with discovery (Google), Issuer alone (no
// AuthURL, TokenURL or JWKSURL) means discovery at
// {Issuer}/.well-known/openid-configuration, lazily on first use; explicit
// UserinfoURL and RevokeURL still win over discovered ones. Naver ignores
// Issuer and JWKSURL; Kakao uses them only with Options.OIDC.
type Endpoints struct {
	AuthURL     string
	TokenURL    string
	UserinfoURL string
	Issuer      string
	JWKSURL     string
	RevokeURL   string
	// EndSessionURL is where RP-initiated logout sends the browser (OIDC
	// end_session_endpoint, Kakao's account logout); see logout.go.
	EndSessionURL string
}

// Provider runs the authorization-code flow against one provider. It is safe
// for concurrent use.
type Provider struct {
	id      string // the instance id, Options.Name
	display string
	spec    *spec
	opts    Options
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
	oidc    bool
	scopes  []string
	claims  Claims // generic OpenID Connect only, with defaults

	// res is set in New, or by the first successful discovery.
	mu       sync.Mutex
	res      *resolved
	inflight *discovery
}

// New validates o and returns a Provider. It makes no network call.
func New(o Options) (*Provider, error) {
	kind, err := kindOf(o.Name, o.Kind)
	if err != nil {
		return nil, fmt.Errorf("providers: %s: unknown provider: %w", o.Name, err)
	}
	if o.Name == "" {
		o.Name = kind
	}
	if !ValidID(o.Name) {
		return nil, fmt.Errorf("providers: id %q: must match [a-z0-9][a-z0-9_-]* (at most 64 bytes)", o.Name)
	}
	s := specs[kind]
	if err := validate(s, o); err != nil {
		return nil, fmt.Errorf("%s: %w", o.Name, err)
	}
	p := &Provider{
		id:      o.Name,
		display: o.DisplayName,
		spec:    s,
		opts:    o,
		client:  o.HTTPClient,
		timeout: o.Timeout,
		now:     o.Now,
		oidc:    s.oidc || (s.optionalOIDC && o.OIDC),
	}
	if p.timeout == 0 {
		p.timeout = DefaultTimeout
	}
	if p.client == nil {
		p.client = &http.Client{Timeout: p.timeout}
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.display == "" {
		p.display = s.displayName
	}
	p.claims = o.Claims.withDefaults()
	p.scopes = s.scopes
	if len(o.Scopes) > 0 {
		p.scopes = o.Scopes
	}
	if p.oidc && !slices.Contains(p.scopes, "openid") {
		p.scopes = append([]string{"openid"}, p.scopes...)
	}
	p.scopes = slices.Clone(p.scopes)
	if !p.needsDiscovery() {
		p.res = p.static()
	}
	return p, nil
}

// validate is New's check: the first problem, as an error.
func validate(s *spec, o Options) error {
	if errs := check(s, o, false); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// checkURL accepts absolute http(s) URLs with a host.
func checkURL(raw string) error {
	if raw == "" {
		return errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return nil
}

// Name is the instance id: Options.Name, or the kind when that was zero.
func (p *Provider) Name() string { return p.id }

// Kind is the provider kind: "google", "naver", "kakao", "oidc", "github"…
func (p *Provider) Kind() string { return p.spec.name }

// DisplayName is the instance's name for people: Options.DisplayName, or
// the kind's ("Google", "Naver", "Kakao").
func (p *Provider) DisplayName() string { return p.display }

// supportsPKCE reports whether AuthURL sends a PKCE S256 challenge.
// For generic OpenID Connect it may: PKCE is used when the issuer
// advertises S256.
func (p *Provider) supportsPKCE() bool { return p.spec.pkce || p.spec.generic }

// IsOIDC reports whether Exchange verifies an id_token (and AuthURL sends a
// nonce).
func (p *Provider) IsOIDC() bool { return p.oidc }

// NewAuthRequest returns fresh secrets for one login: a random State, a
// Nonce for OpenID Connect providers and a PKCE Verifier where the provider
// takes PKCE.
func (p *Provider) NewAuthRequest() AuthRequest {
	a := AuthRequest{State: randomString()}
	if p.oidc {
		a.Nonce = randomString()
	}
	if p.supportsPKCE() {
		a.Verifier = oauth2.GenerateVerifier()
	}
	return a
}

// randomString returns 256 random bits, base64url without padding.
func randomString() string {
	var b [32]byte
	rand.Read(b[:]) // never returns an error (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// AuthURLContext is where the browser goes to log in. When the endpoints
// come from OpenID Connect discovery that has not succeeded yet, it runs it
// first (bounded by ctx and Timeout) and fails with an error wrapping
// ErrProvider if discovery fails. Without discovery it never fails.
func (p *Provider) AuthURLContext(ctx context.Context, a AuthRequest) (string, error) {
	if p.spec.goth != nil {
		return p.gothAuthURL(ctx, a)
	}
	res, err := p.resolve(ctx)
	if err != nil {
		return "", err
	}
	opts := make([]oauth2.AuthCodeOption, 0, 6)
	for _, kv := range p.spec.authParams {
		opts = append(opts, oauth2.SetAuthURLParam(kv[0], kv[1]))
	}
	if res.pkce && a.Verifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(a.Verifier))
	}
	if p.oidc && a.Nonce != "" {
		opts = append(opts, oauth2.SetAuthURLParam("nonce", a.Nonce))
	}
	if a.Prompt != "" && p.spec.prompt != nil {
		if k, v := p.spec.prompt(a.Prompt); k != "" {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	if a.LoginHint != "" && p.spec.loginHint {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", a.LoginHint))
	}
	conf := p.config(res)
	return conf.AuthCodeURL(a.State, opts...), nil
}

// config is the x/oauth2 view of the provider. Secrets go in the form body
// (Kakao refuses HTTP Basic, Google and Naver accept the body) except for
// an issuer that advertises client_secret_basic first (oidckind.go).
func (p *Provider) config(res *resolved) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.opts.ClientID,
		ClientSecret: p.opts.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   res.ep.AuthURL,
			TokenURL:  res.ep.TokenURL,
			AuthStyle: authStyle(res.tokenAuth),
		},
		RedirectURL: p.opts.RedirectURL,
		Scopes:      p.scopes,
	}
}

// clientContext carries the HTTP client into x/oauth2 and go-oidc, with a
// timeout for one outbound call.
func (p *Provider) clientContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	return context.WithValue(ctx, oauth2.HTTPClient, p.client), cancel
}
