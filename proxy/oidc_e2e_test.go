package proxy_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/socialgate/socialgate/providers/providertest"
)

// TestGenericOIDCLoginEndToEnd signs in through a generic OpenID Connect
// issuer configured by its issuer alone, over real HTTP, in each shape the
// issuer may take: client_secret_basic or client_secret_post, PKCE
// advertised or not, email_verified as a string, and an id_token without
// profile claims whose e-mail and name only userinfo tells.
func TestGenericOIDCLoginEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name string
		oo   providertest.OIDCOptions
	}{
		{"basic pkce", providertest.OIDCOptions{PKCE: true}},
		{"post", providertest.OIDCOptions{ClientAuth: "client_secret_post"}},
		{"basic string email_verified thin id_token", providertest.OIDCOptions{StringEmailVerified: true, ThinIDToken: true}},
		{"post pkce string email_verified thin id_token", providertest.OIDCOptions{ClientAuth: "client_secret_post", PKCE: true,
			StringEmailVerified: true, ThinIDToken: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, gatewayConfig{instances: []instance{{id: "corp", kind: "oidc", display: "사내 계정", oidc: tc.oo}}})
			for _, u := range providertest.DefaultUsers(providertest.OIDC) {
				b := newBrowser(t)
				resp, e := g.login(b, "corp", u.ID, g.URL+"/app/x")
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: landed with %d; hops %v", u.ID, resp.StatusCode, b.hops)
				}
				verified := "false"
				if u.Email != "" && u.EmailVerified {
					verified = "true"
				}
				for k, want := range map[string]string{
					"X-Forwarded-User":               "corp:" + u.ID,
					"X-Forwarded-Provider":           "corp",
					"X-Forwarded-Email":              u.Email,
					"X-Forwarded-Email-Verified":     verified,
					"X-Forwarded-Preferred-Username": percentName(u.Name),
				} {
					if got := e.Header.Get(k); got != want {
						t.Errorf("%s: %s = %q, want %q", u.ID, k, got, want)
					}
				}
			}
			var sawChallenge, sawVerifier, sawUserinfo bool
			for _, r := range g.fakes["corp"].Requests() {
				switch {
				case strings.HasSuffix(r.Path, "/auth"):
					sawChallenge = sawChallenge || r.Form.Get("code_challenge") != ""
					if r.Form.Get("nonce") == "" {
						t.Errorf("authorization request without a nonce")
					}
				case strings.HasSuffix(r.Path, "/token"):
					sawVerifier = sawVerifier || r.PostForm.Get("code_verifier") != ""
					_, _, basic := (&http.Request{Header: r.Header}).BasicAuth()
					if want := tc.oo.ClientAuth != "client_secret_post"; basic != want {
						t.Errorf("token request: Basic %v, want %v", basic, want)
					}
				case strings.HasSuffix(r.Path, "/userinfo"):
					sawUserinfo = true
				}
			}
			if sawChallenge != tc.oo.PKCE || sawVerifier != tc.oo.PKCE {
				t.Errorf("PKCE: challenge %v verifier %v, want %v", sawChallenge, sawVerifier, tc.oo.PKCE)
			}
			if tc.oo.ThinIDToken && !sawUserinfo {
				t.Errorf("thin id_token but userinfo never called")
			}
		})
	}
}

// percentName is the default header encoding of a name: ASCII as it is,
// anything else percent-encoded.
func percentName(name string) string {
	if utf8.RuneCountInString(name) == len(name) {
		return name
	}
	return url.PathEscape(name)
}
