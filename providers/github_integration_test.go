package providers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/providers/providertest"
)

// TestGitHubLogin signs every default GitHub user in through goth: a public
// e-mail, a private one only /user/emails tells (with a Hangul name), an
// unverified private e-mail without a name, and no e-mail at all.
func TestGitHubLogin(t *testing.T) {
	for _, u := range providertest.DefaultUsers(providertest.GitHub) {
		t.Run(u.Nickname, func(t *testing.T) {
			f, p := setup(t, "github", nil)
			a := p.NewAuthRequest()
			if a.Verifier == "" || a.Nonce != "" {
				t.Fatalf("auth request %+v: want a PKCE verifier and no nonce", a)
			}
			q := authorize(t, f, p, u.ID, a)
			id, tok, err := p.Exchange(context.Background(), q.Get("code"), a)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			want := providers.Identity{Provider: "github", Subject: u.ID, Email: u.Email,
				EmailVerified: u.Email != "" && u.EmailVerified, Name: u.Name}
			if want.Name == "" {
				want.Name = u.Nickname // the login when GitHub has no name
			}
			id.Picture = ""
			if id != want {
				t.Errorf("identity:\n got %+v\nwant %+v", id, want)
			}
			if tok.AccessToken == "" {
				t.Error("no access token")
			}
			var sawChallenge, sawVerifier, sawEmails bool
			for _, r := range f.Requests() {
				switch r.Path {
				case "/login/oauth/authorize":
					sawChallenge = r.Form.Get("code_challenge_method") == "S256"
					if s := r.Form.Get("scope"); !strings.Contains(s, "user:email") {
						t.Errorf("scope %q lacks user:email", s)
					}
				case "/login/oauth/access_token":
					sawVerifier = sawVerifier || r.PostForm.Get("code_verifier") == a.Verifier
				case "/user/emails":
					sawEmails = true
				}
			}
			if !sawChallenge || !sawVerifier || !sawEmails {
				t.Errorf("challenge %v verifier %v /user/emails %v; want all", sawChallenge, sawVerifier, sawEmails)
			}
		})
	}
}

// TestGitHubCodeErrors: GitHub reports a reused code with HTTP 200 and
// bad_verification_code, which must read as a refused code, and a wrong
// verifier likewise.
func TestGitHubCodeErrors(t *testing.T) {
	u := providertest.DefaultUsers(providertest.GitHub)[0]
	f, p := setup(t, "github", nil)
	a := p.NewAuthRequest()
	q := authorize(t, f, p, u.ID, a)
	if _, _, err := p.Exchange(context.Background(), q.Get("code"), a); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Exchange(context.Background(), q.Get("code"), a); !errors.Is(err, providers.ErrCodeRejected) {
		t.Errorf("reused code: %v, want ErrCodeRejected", err)
	}
	a2 := p.NewAuthRequest()
	q2 := authorize(t, f, p, u.ID, a2)
	a2.Verifier = p.NewAuthRequest().Verifier
	if _, _, err := p.Exchange(context.Background(), q2.Get("code"), a2); !errors.Is(err, providers.ErrCodeRejected) {
		t.Errorf("wrong verifier: %v, want ErrCodeRejected", err)
	}
	if _, err := p.Refresh(context.Background(), "x"); !errors.Is(err, providers.ErrInvalidGrant) {
		t.Errorf("Refresh: %v, want ErrInvalidGrant (GitHub OAuth apps have no refresh)", err)
	}
}

// TestGitHubContextAndTimeout: goth's calls take no context; the
// adapter's client carries the call's, and Options.Timeout bounds each
// request, so a stalled GitHub fails the call instead of hanging it.
func TestGitHubContextAndTimeout(t *testing.T) {
	u := providertest.DefaultUsers(providertest.GitHub)[0]
	f, p := setup(t, "github", func(o *providers.Options) { o.Timeout = 200 * time.Millisecond })
	f.SetLatency(time.Minute)
	for name, ctx := range map[string]context.Context{"cancelled": cancelled(), "timeout": context.Background()} {
		a := p.NewAuthRequest()
		code := f.IssueCode(u.ID, "http://127.0.0.1:4180/oauth2/callback/github", providertest.AuthParams{})
		if _, _, err := p.Exchange(ctx, code, a); !errors.Is(err, providers.ErrProvider) {
			t.Errorf("%s: %v, want ErrProvider", name, err)
		}
	}
}

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestGitHubRevoke: sign-out's revocation deletes the app's grant with the
// client authenticated (HTTP Basic), and the token stops working.
func TestGitHubRevoke(t *testing.T) {
	u := providertest.DefaultUsers(providertest.GitHub)[0]
	f, p := setup(t, "github", nil)
	a := p.NewAuthRequest()
	q := authorize(t, f, p, u.ID, a)
	_, tok, err := p.Exchange(context.Background(), q.Get("code"), a)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Revoke(context.Background(), tok); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if got := f.RevokedTokens(); len(got) != 1 || got[0] != tok.AccessToken {
		t.Errorf("revoked %d tokens, want the access token", len(got))
	}
	if err := p.Revoke(context.Background(), tok); err != nil {
		t.Errorf("revoking again: %v, want nil (already gone)", err)
	}
	a2 := p.NewAuthRequest()
	q2 := authorize(t, f, p, u.ID, a2)
	if _, _, err := p.Exchange(context.Background(), q2.Get("code"), a2); err != nil {
		t.Fatalf("a new login after revocation: %v", err)
	}
}
