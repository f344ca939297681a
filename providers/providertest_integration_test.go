package providers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/providers/providertest"
)

const (
	clientID     = "integration-client"
	clientSecret = "integration-secret"
)

// setup starts a fake of kind and a Provider pointed at it.
func setup(t *testing.T, kind string, edit func(*providers.Options)) (*providertest.Fake, *providers.Provider) {
	t.Helper()
	secret := clientSecret
	f, err := providertest.Start(kind, providertest.Options{ClientID: clientID, ClientSecret: secret})
	if err != nil {
		t.Fatalf("start fake %s: %v", kind, err)
	}
	t.Cleanup(f.Close)
	e := f.Endpoints()
	o := providers.Options{
		Name: kind, ClientID: clientID, ClientSecret: secret,
		RedirectURL: "http://127.0.0.1:4180/oauth2/callback/" + kind,
		Endpoints: providers.Endpoints{AuthURL: e.AuthURL, TokenURL: e.TokenURL, UserinfoURL: e.UserinfoURL,
			Issuer: e.Issuer, JWKSURL: e.JWKSURL, RevokeURL: e.RevokeURL},
	}
	if edit != nil {
		edit(&o)
	}
	p, err := providers.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f, p
}

// authorize follows AuthURL like a browser whose user approves at once and
// returns the callback query.
func authorize(t *testing.T, f *providertest.Fake, p *providers.Provider, userID string, a providers.AuthRequest) url.Values {
	t.Helper()
	f.AutoApprove(userID)
	u, err := p.AuthURLContext(context.Background(), a)
	if err != nil {
		t.Fatalf("AuthURL: %v", err)
	}
	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get(u)
	if err != nil {
		t.Fatalf("GET AuthURL: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET AuthURL: got status %d, want a redirect", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("Location: %v", err)
	}
	q := loc.Query()
	if got := q.Get("state"); got != a.State {
		t.Fatalf("got state %q on the callback, want %q", got, a.State)
	}
	return q
}

// wantIdentity is what SPEC.md "Identity mapping" says u becomes.
func wantIdentity(kind string, u providertest.User) providers.Identity {
	id := providers.Identity{Provider: kind, Subject: u.ID, Email: u.Email}
	switch kind {
	case "google":
		id.Name, id.EmailVerified = u.Name, u.EmailVerified
	case "naver":
		id.Name = u.Nickname
		if id.Name == "" {
			id.Name = u.Name
		}
	case "kakao":
		id.Name, id.EmailVerified = u.Nickname, u.EmailVerified
	}
	if id.Email == "" {
		id.EmailVerified = false
	}
	return id
}

type variant struct {
	name string
	kind string
	edit func(*providers.Options)
}

var variants = []variant{
	{"google", "google", nil},
	{"google discovery", "google", func(o *providers.Options) {
		o.Endpoints = providers.Endpoints{Issuer: o.Endpoints.Issuer}
	}},
	{"naver", "naver", nil},
	{"kakao", "kakao", nil},
	{"kakao without secret", "kakao", func(o *providers.Options) { o.ClientSecret = "" }},
	{"kakao oidc", "kakao", func(o *providers.Options) { o.OIDC = true }},
}

// TestFakeLogin signs every default user in through every variant.
func TestFakeLogin(t *testing.T) {
	for _, v := range variants {
		for _, u := range providertest.DefaultUsers(v.kind) {
			t.Run(v.name+"/"+u.ID, func(t *testing.T) {
				edit := v.edit
				if v.name == "kakao without secret" {
					// The fake's app has its secret switched off too.
					edit = nil
				}
				f, p := setupVariant(t, v, edit)
				a := p.NewAuthRequest()
				q := authorize(t, f, p, u.ID, a)
				id, tok, err := p.Exchange(context.Background(), q.Get("code"), a)
				if err != nil {
					t.Fatalf("Exchange: got error %v, want none", err)
				}
				want := wantIdentity(v.kind, u)
				got := id
				got.Picture = "" // the fakes send default images; not part of the contract
				if got != want {
					t.Errorf("got %+v,\nwant %+v", got, want)
				}
				if tok.AccessToken == "" || tok.Expiry.IsZero() {
					t.Errorf("got tokens without access token or expiry")
				}
				if p.IsOIDC() && tok.IDToken == "" {
					t.Errorf("got no id_token from an OIDC exchange")
				}
			})
		}
	}
}

func setupVariant(t *testing.T, v variant, edit func(*providers.Options)) (*providertest.Fake, *providers.Provider) {
	if v.name == "kakao without secret" {
		f, err := providertest.Start("kakao", providertest.Options{ClientID: clientID})
		if err != nil {
			t.Fatalf("start fake: %v", err)
		}
		t.Cleanup(f.Close)
		e := f.Endpoints()
		p, err := providers.New(providers.Options{Name: "kakao", ClientID: clientID,
			RedirectURL: "http://127.0.0.1:4180/oauth2/callback/kakao",
			Endpoints:   providers.Endpoints{AuthURL: e.AuthURL, TokenURL: e.TokenURL, UserinfoURL: e.UserinfoURL, RevokeURL: e.RevokeURL}})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return f, p
	}
	return setup(t, v.kind, edit)
}

// TestFakeLifecycle: reused code, refresh, refused refresh and revoke, per
// provider.
func TestFakeLifecycle(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			f, p := setupVariant(t, v, v.edit)
			user := providertest.DefaultUsers(v.kind)[0].ID
			a := p.NewAuthRequest()
			code := authorize(t, f, p, user, a).Get("code")
			_, tok, err := p.Exchange(context.Background(), code, a)
			if err != nil {
				t.Fatalf("Exchange: got error %v, want none", err)
			}

			_, _, err = p.Exchange(context.Background(), code, a)
			if !errors.Is(err, providers.ErrCodeRejected) {
				t.Errorf("reused code: got error %v, want ErrCodeRejected", err)
			}

			if tok.RefreshToken == "" {
				t.Fatalf("got no refresh token")
			}
			next, err := p.Refresh(context.Background(), tok.RefreshToken)
			if err != nil {
				t.Fatalf("Refresh: got error %v, want none", err)
			}
			if next.AccessToken == "" || next.AccessToken == tok.AccessToken {
				t.Errorf("Refresh: got access token %q, want a new one", next.AccessToken)
			}
			if next.RefreshToken == "" {
				t.Errorf("Refresh: got no refresh token, want the old or a rotated one")
			}

			f.FailRefresh(user)
			if _, err := p.Refresh(context.Background(), next.RefreshToken); !errors.Is(err, providers.ErrInvalidGrant) {
				t.Errorf("refused refresh: got error %v, want ErrInvalidGrant", err)
			}
			f.FailRefresh("")

			if err := p.Revoke(context.Background(), next); err != nil {
				t.Fatalf("Revoke: got error %v, want none", err)
			}
			revoked := f.RevokedTokens()
			if !slices.Contains(revoked, next.AccessToken) && !slices.Contains(revoked, next.RefreshToken) {
				t.Errorf("Revoke: the fake saw no revocation of our tokens")
			}
			if _, err := p.Refresh(context.Background(), next.RefreshToken); !errors.Is(err, providers.ErrInvalidGrant) {
				t.Errorf("refresh after revoke: got error %v, want ErrInvalidGrant", err)
			}
		})
	}
}

// TestFakeBadCode: a code the fake never issued, or one bound to another
// verifier, is refused, not a provider failure.
func TestFakeBadCode(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			f, p := setupVariant(t, v, v.edit)
			a := p.NewAuthRequest()
			if _, _, err := p.Exchange(context.Background(), "never-issued", a); !errors.Is(err, providers.ErrCodeRejected) {
				t.Errorf("unknown code: got error %v, want ErrCodeRejected", err)
			}
			if !p.SupportsPKCE() {
				return
			}
			code := authorize(t, f, p, providertest.DefaultUsers(v.kind)[0].ID, a).Get("code")
			other := a
			other.Verifier = p.NewAuthRequest().Verifier
			if _, _, err := p.Exchange(context.Background(), code, other); !errors.Is(err, providers.ErrCodeRejected) {
				t.Errorf("wrong verifier: got error %v, want ErrCodeRejected", err)
			}
		})
	}
}

func TestFakeDenied(t *testing.T) {
	for _, kind := range []string{"google", "naver", "kakao"} {
		f, p := setup(t, kind, nil)
		f.DenyConsent(true)
		a := p.NewAuthRequest()
		q := authorize(t, f, p, providertest.DefaultUsers(kind)[0].ID, a)
		if got := q.Get("error"); got != "access_denied" {
			t.Errorf("%s: got error=%q on the callback, want access_denied", kind, got)
		}
	}
}

func TestFakeDownAndSlow(t *testing.T) {
	for _, kind := range []string{"google", "naver", "kakao"} {
		f, p := setup(t, kind, func(o *providers.Options) { o.Timeout = 100 * time.Millisecond })
		a := p.NewAuthRequest()
		code := authorize(t, f, p, providertest.DefaultUsers(kind)[0].ID, a).Get("code")

		f.SetDown(true)
		if _, _, err := p.Exchange(context.Background(), code, a); !errors.Is(err, providers.ErrProvider) {
			t.Errorf("%s down: got error %v, want ErrProvider", kind, err)
		}
		f.SetDown(false)

		f.SetLatency(5 * time.Second)
		start := time.Now()
		if _, _, err := p.Exchange(context.Background(), code, a); !errors.Is(err, providers.ErrProvider) {
			t.Errorf("%s slow: got error %v, want ErrProvider", kind, err)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("%s slow: took %v, want the 100ms timeout to end it", kind, d)
		}
		f.SetLatency(0)
	}
}
