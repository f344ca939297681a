package providers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/providers/providertest"
)

// startOIDC starts a generic OpenID Connect fake shaped by oo and a
// Provider of kind oidc configured with its issuer alone, as an operator
// configures Keycloak or Okta.
func startOIDC(t *testing.T, oo providertest.OIDCOptions, edit func(*providers.Options)) (*providertest.Fake, *providers.Provider) {
	t.Helper()
	f, err := providertest.Start(providertest.OIDC, providertest.Options{ClientID: clientID, ClientSecret: clientSecret, OIDC: oo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	o := providers.Options{Name: "corp", Kind: "oidc", ClientID: clientID, ClientSecret: clientSecret,
		RedirectURL: "http://127.0.0.1:4180/oauth2/callback/corp",
		Endpoints:   providers.Endpoints{Issuer: f.URL()}}
	if edit != nil {
		edit(&o)
	}
	p, err := providers.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return f, p
}

// TestGenericOIDCLogin signs every default user in through every shape of
// issuer: either client authentication, PKCE advertised or not, string
// email_verified, thin id_tokens completed from userinfo.
func TestGenericOIDCLogin(t *testing.T) {
	shapes := []struct {
		name string
		oo   providertest.OIDCOptions
	}{
		{"basic", providertest.OIDCOptions{}},
		{"post", providertest.OIDCOptions{ClientAuth: "client_secret_post"}},
		{"basic pkce", providertest.OIDCOptions{PKCE: true}},
		{"post pkce string email_verified", providertest.OIDCOptions{ClientAuth: "client_secret_post", PKCE: true, StringEmailVerified: true}},
		{"thin id_token string email_verified", providertest.OIDCOptions{ThinIDToken: true, StringEmailVerified: true}},
	}
	for _, sh := range shapes {
		for _, u := range providertest.DefaultUsers(providertest.OIDC) {
			t.Run(sh.name+"/"+u.Nickname, func(t *testing.T) {
				f, p := startOIDC(t, sh.oo, nil)
				a := p.NewAuthRequest()
				if a.Nonce == "" || a.Verifier == "" {
					t.Fatalf("auth request lacks a nonce or verifier: %+v", a)
				}
				q := authorize(t, f, p, u.ID, a)
				id, tok, err := p.Exchange(context.Background(), q.Get("code"), a)
				if err != nil {
					t.Fatalf("Exchange: %v", err)
				}
				want := providers.Identity{Provider: "corp", Subject: u.ID, Email: u.Email,
					EmailVerified: u.Email != "" && u.EmailVerified, Name: u.Name}
				if id != want {
					t.Errorf("identity:\n got %+v\nwant %+v", id, want)
				}
				if tok.IDToken == "" || tok.AccessToken == "" {
					t.Errorf("tokens lack an id_token or access token")
				}
				var auth, token, userinfo *providertest.Request
				reqs := f.Requests()
				for i := range reqs {
					switch {
					case strings.HasSuffix(reqs[i].Path, "/auth"):
						auth = &reqs[i]
					case strings.HasSuffix(reqs[i].Path, "/token"):
						token = &reqs[i]
					case strings.HasSuffix(reqs[i].Path, "/userinfo"):
						userinfo = &reqs[i]
					}
				}
				if auth == nil || token == nil {
					t.Fatalf("fake saw no authorization or token request: %v", reqs)
				}
				if got := auth.Form.Get("code_challenge") != ""; got != sh.oo.PKCE {
					t.Errorf("code_challenge sent = %v, want %v (advertised)", got, sh.oo.PKCE)
				}
				if got := token.PostForm.Get("code_verifier") != ""; got != sh.oo.PKCE {
					t.Errorf("code_verifier sent = %v, want %v", got, sh.oo.PKCE)
				}
				if auth.Form.Get("nonce") != a.Nonce {
					t.Errorf("nonce not sent")
				}
				_, _, basic := (&http.Request{Header: token.Header}).BasicAuth()
				wantBasic := sh.oo.ClientAuth != "client_secret_post"
				if basic != wantBasic || (token.PostForm.Get("client_secret") != "") == wantBasic {
					t.Errorf("client auth: basic %v, secret in body %v; want basic %v", basic, token.PostForm.Get("client_secret") != "", wantBasic)
				}
				// Userinfo only when the id_token lacks e-mail or name.
				wantUserinfo := sh.oo.ThinIDToken || u.Email == ""
				if (userinfo != nil) != wantUserinfo {
					t.Errorf("userinfo called = %v, want %v", userinfo != nil, wantUserinfo)
				}
			})
		}
	}
}

// TestGenericOIDCClaims maps other claims: preferred_username as the
// name, and a subject claim of the operator's choosing.
func TestGenericOIDCClaims(t *testing.T) {
	u := providertest.DefaultUsers(providertest.OIDC)[0]
	f, p := startOIDC(t, providertest.OIDCOptions{}, func(o *providers.Options) {
		o.Claims = providers.Claims{Name: "preferred_username", Subject: "email"}
	})
	a := p.NewAuthRequest()
	q := authorize(t, f, p, u.ID, a)
	id, _, err := p.Exchange(context.Background(), q.Get("code"), a)
	if err != nil {
		t.Fatal(err)
	}
	if id.Name != u.Nickname || id.Subject != u.Email {
		t.Errorf("got name %q subject %q, want %q %q", id.Name, id.Subject, u.Nickname, u.Email)
	}
}

// TestGenericOIDCRefreshAndRevoke: offline_access brings a refresh token,
// refresh works, and revocation authenticates the client as the issuer
// advertises (the fake answers 401 otherwise, as RFC 7009 issuers do).
func TestGenericOIDCRefreshAndRevoke(t *testing.T) {
	for _, auth := range []string{"client_secret_basic", "client_secret_post"} {
		t.Run(auth, func(t *testing.T) {
			u := providertest.DefaultUsers(providertest.OIDC)[0]
			f, p := startOIDC(t, providertest.OIDCOptions{ClientAuth: auth}, func(o *providers.Options) {
				o.Scopes = []string{"openid", "email", "profile", "offline_access"}
			})
			a := p.NewAuthRequest()
			q := authorize(t, f, p, u.ID, a)
			_, tok, err := p.Exchange(context.Background(), q.Get("code"), a)
			if err != nil {
				t.Fatal(err)
			}
			if tok.RefreshToken == "" {
				t.Fatal("no refresh token with offline_access")
			}
			tok2, err := p.Refresh(context.Background(), tok.RefreshToken)
			if err != nil || tok2.AccessToken == "" || tok2.AccessToken == tok.AccessToken {
				t.Fatalf("Refresh: %v (%+v)", err, tok2)
			}
			if err := p.Revoke(context.Background(), tok2); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			if _, err := p.Refresh(context.Background(), tok.RefreshToken); !errors.Is(err, providers.ErrInvalidGrant) {
				t.Errorf("refresh after revoke: %v, want ErrInvalidGrant", err)
			}
		})
	}
}

// hostGuard is an http.Client transport that refuses every host but the
// allowed ones and records what it refused: an access token must never
// reach a host the configuration did not name or discover.
type hostGuard struct {
	mu      sync.Mutex
	allowed map[string]bool
	refused []string
}

func (g *hostGuard) RoundTrip(r *http.Request) (*http.Response, error) {
	if !g.allowed[r.URL.Host] {
		g.mu.Lock()
		g.refused = append(g.refused, r.URL.String())
		g.mu.Unlock()
		return nil, errors.New("refused by the test: host not configured")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestIssuerEndpointsFromDiscovery is issue 8's finding 8: issuer, auth,
// token and JWKS URLs set but no userinfo_url sent the access token to
// Google's real userinfo. With an issuer, every endpoint not set comes from
// discovery; and revocation authenticates the client, which an RFC 7009
// issuer in Google's place requires.
func TestIssuerEndpointsFromDiscovery(t *testing.T) {
	for _, tc := range []struct {
		name string
		ep   func(e providertest.Endpoints) providers.Endpoints
	}{
		{"issuer auth token jwks", func(e providertest.Endpoints) providers.Endpoints {
			return providers.Endpoints{Issuer: e.Issuer, AuthURL: e.AuthURL, TokenURL: e.TokenURL, JWKSURL: e.JWKSURL}
		}},
		{"issuer alone", func(e providertest.Endpoints) providers.Endpoints {
			return providers.Endpoints{Issuer: e.Issuer}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := providertest.Start(providertest.OIDC, providertest.Options{ClientID: clientID, ClientSecret: clientSecret,
				OIDC: providertest.OIDCOptions{ClientAuth: "client_secret_post", ThinIDToken: true}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(f.Close)
			fu, _ := url.Parse(f.URL())
			guard := &hostGuard{allowed: map[string]bool{fu.Host: true}}
			p, err := providers.New(providers.Options{Name: "google", ClientID: clientID, ClientSecret: clientSecret,
				RedirectURL: "http://127.0.0.1:4180/oauth2/callback/google",
				Endpoints:   tc.ep(f.Endpoints()),
				HTTPClient:  &http.Client{Transport: guard}})
			if err != nil {
				t.Fatal(err)
			}
			u := providertest.DefaultUsers(providertest.OIDC)[0]
			a := p.NewAuthRequest()
			q := authorize(t, f, p, u.ID, a)
			id, tok, err := p.Exchange(context.Background(), q.Get("code"), a)
			if err != nil {
				t.Fatalf("Exchange: %v (refused: %v)", err, guard.refused)
			}
			if id.Email != u.Email || id.Name != u.Name {
				t.Errorf("identity %+v lacks what the discovered userinfo tells", id)
			}
			if err := p.Revoke(context.Background(), tok); err != nil {
				t.Errorf("Revoke: %v", err)
			}
			if len(guard.refused) != 0 {
				t.Errorf("requests to hosts the configuration did not name: %v", guard.refused)
			}
			if len(f.RevokedTokens()) == 0 {
				t.Errorf("the issuer revoked nothing")
			}
		})
	}
}
