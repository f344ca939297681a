package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/markbates/goth"
	"golang.org/x/oauth2"
)

// The adapter between the gateway's flow and github.com/markbates/goth's
// catalogue of OAuth 2.0 providers (gothkinds.go lists them). goth builds
// the authorization URL, exchanges the code and fetches the profile; the
// gateway keeps everything else: state, PKCE, login state, sessions. It
// never uses gothic or goth's global registry (goth.UseProviders): each
// call builds its own goth.Provider, with an *http.Client bound to the
// call's context and Timeout, because goth's methods take no context.

// gothSpec is what a goth kind adds to its spec.
type gothSpec struct {
	// new builds goth's provider for one call. a.ep holds the endpoints
	// set in Options (empty fields: goth's own URLs).
	new func(a gothArgs) goth.Provider
	// custom: goth lets the kind's auth, token and profile URLs be set
	// (GitHub Enterprise, GitLab self-managed, Gitea, tests).
	custom bool
	// profile completes the Identity from more calls (GitHub's private
	// e-mail); nil: goth's User is all there is.
	profile func(ctx context.Context, p *Provider, a gothArgs, access string, id *Identity) error
}

// gothArgs are a goth provider's constructor arguments.
type gothArgs struct {
	clientID, secret, callback string
	scopes                     []string
	ep                         Endpoints
	client                     *http.Client
}

// or returns v, or def when v is empty.
func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// stdGoth adapts a goth constructor of the common shape New(key, secret,
// callback, scopes...) whose provider has an HTTPClient field.
func stdGoth[P goth.Provider](newP func(key, secret, callback string, scopes ...string) P) func(gothArgs) goth.Provider {
	return func(a gothArgs) goth.Provider {
		p := newP(a.clientID, a.secret, a.callback, a.scopes...)
		setHTTPClient(p, a.client)
		return p
	}
}

// setHTTPClient sets goth's exported HTTPClient field, which every
// supported goth provider has (gothkinds_test.go checks each); goth's
// providers share no interface for it.
func setHTTPClient(p goth.Provider, c *http.Client) {
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("providers: goth provider %T is not a pointer to a struct", p))
	}
	f := v.Elem().FieldByName("HTTPClient")
	if !f.IsValid() || !f.CanSet() || f.Type() != reflect.TypeOf(c) {
		panic(fmt.Sprintf("providers: goth provider %T has no HTTPClient field", p))
	}
	f.Set(reflect.ValueOf(c))
}

// gothArgsFor returns the constructor arguments for one call under ctx.
// verifier, when set, is added to the token request as code_verifier:
// goth's Session.Authorize takes no options, and PKCE stays the gateway's.
func (p *Provider) gothArgsFor(ctx context.Context, verifier string) gothArgs {
	base := p.client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	ep := p.opts.Endpoints
	return gothArgs{
		clientID: p.opts.ClientID, secret: p.opts.ClientSecret, callback: p.opts.RedirectURL,
		scopes: p.scopes, ep: ep,
		client: &http.Client{
			Timeout:   p.timeout,
			Transport: &callTransport{ctx: ctx, base: base, verifier: verifier},
			// Like x/oauth2's own client: a token or profile request is
			// never redirected elsewhere with the credentials.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// callTransport binds goth's requests to one call's context and adds the
// PKCE verifier to the token request.
type callTransport struct {
	ctx      context.Context
	base     http.RoundTripper
	verifier string // added to the authorization_code grant
}

func (t *callTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(t.ctx)
	if t.verifier != "" && r.Method == http.MethodPost && r.Body != nil &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		form, err := url.ParseQuery(string(body))
		if err == nil && form.Get("grant_type") == "authorization_code" {
			form.Set("code_verifier", t.verifier)
			body = []byte(form.Encode())
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return t.base.RoundTrip(r)
}

func (p *Provider) gothAuthURL(ctx context.Context, a AuthRequest) (string, error) {
	gp := p.spec.goth.new(p.gothArgsFor(ctx, ""))
	sess, err := gp.BeginAuth(a.State)
	if err != nil {
		return "", p.gothFail("authorize", err)
	}
	raw, err := sess.GetAuthURL()
	if err != nil {
		return "", p.gothFail("authorize", err)
	}
	if !p.spec.pkce || a.Verifier == "" {
		return raw, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", p.gothFail("authorize", err)
	}
	q := u.Query()
	q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(a.Verifier))
	q.Set("code_challenge_method", "S256")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// gothSession is the part of goth's sessions the gateway keeps: most
// marshal these fields (GitHub's only the access token).
type gothSession struct {
	AccessToken  string
	RefreshToken string
	ExpiresAt    time.Time
	IDToken      string
}

func (p *Provider) gothExchange(ctx context.Context, code string, a AuthRequest) (Identity, Tokens, error) {
	const op = "exchange"
	args := p.gothArgsFor(ctx, a.Verifier)
	gp := p.spec.goth.new(args)
	sess, err := gp.BeginAuth(a.State)
	if err != nil {
		return Identity{}, Tokens{}, p.gothFail(op, err)
	}
	access, err := sess.Authorize(gp, url.Values{"code": {code}, "state": {a.State}})
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			return Identity{}, Tokens{}, p.tokenError(ctx, op, err, false, code)
		}
		return Identity{}, Tokens{}, p.gothFail(op, err, code, a.Verifier)
	}
	var gs gothSession
	_ = json.Unmarshal([]byte(sess.Marshal()), &gs) // best effort: the access token is known anyway
	t := Tokens{AccessToken: access, RefreshToken: gs.RefreshToken, Expiry: gs.ExpiresAt}
	u, err := gp.FetchUser(sess)
	if err != nil && !p.spec.tolerate(err) {
		return Identity{}, Tokens{}, p.gothFail("userinfo", err, access)
	}
	if t.RefreshToken == "" {
		t.RefreshToken = u.RefreshToken
	}
	if t.Expiry.IsZero() {
		t.Expiry = u.ExpiresAt
	}
	id := Identity{Subject: u.UserID, Email: u.Email, Name: or(u.Name, u.NickName), Picture: u.AvatarURL}
	if p.spec.goth.profile != nil {
		if err := p.spec.goth.profile(ctx, p, args, access, &id); err != nil {
			return Identity{}, Tokens{}, err
		}
	}
	if id, err = p.finish(id); err != nil {
		return Identity{}, Tokens{}, err
	}
	return id, t, nil
}

func (p *Provider) gothRefresh(ctx context.Context, refreshToken string) (Tokens, error) {
	const op = "refresh"
	gp := p.spec.goth.new(p.gothArgsFor(ctx, ""))
	if !gp.RefreshTokenAvailable() {
		return Tokens{}, p.errorf(op, ErrInvalidGrant, "%s issues no refresh tokens", p.spec.name)
	}
	tok, err := gp.RefreshToken(refreshToken)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			return Tokens{}, p.tokenError(ctx, op, err, true, refreshToken)
		}
		return Tokens{}, p.gothFail(op, err, refreshToken)
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

// tolerate reports whether a goth FetchUser error still left a usable
// User: goth's GitHub fails when /user/emails has no verified primary
// address, which only means the e-mail is not verified.
func (s *spec) tolerate(err error) bool {
	return s.tolerateErr != nil && errors.Is(err, s.tolerateErr)
}

// gothFail wraps an error from goth as ErrProvider without what must never
// reach a log: goth's providers put tokens in URL queries (Facebook's
// ?access_token=), and a transport error quotes the URL; secrets are the
// call's own (code, verifier, tokens) and the client secret. A context's
// end stays visible to errors.Is.
func (p *Provider) gothFail(op string, err error, secrets ...string) error {
	msg := clean(stripQueries(err.Error()), append(secrets, p.opts.ClientSecret)...)
	for _, c := range []error{context.DeadlineExceeded, context.Canceled} {
		if errors.Is(err, c) {
			return fmt.Errorf("%s: %s: %w: %w (%s)", p.id, op, ErrProvider, c, msg)
		}
	}
	return p.errorf(op, ErrProvider, "%s", msg)
}

// stripQueries drops the query of every URL quoted in s: from each "?"
// to the next space or quote.
func stripQueries(s string) string {
	var b strings.Builder
	skip := false
	for _, r := range s {
		switch {
		case r == '?':
			skip = true
			b.WriteString("?…")
			continue
		case skip && (r == ' ' || r == '"' || r == '\''):
			skip = false
		}
		if !skip {
			b.WriteRune(r)
		}
	}
	return b.String()
}
