package providertest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func startOIDC(t *testing.T, oo OIDCOptions) *Fake {
	t.Helper()
	c := newClock()
	f, err := Start(OIDC, Options{ClientID: testClientID, ClientSecret: testSecret, Now: c.Now, OIDC: oo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func oidcCode(t *testing.T, f *Fake, user string, extra url.Values) string {
	t.Helper()
	f.AutoApprove(user)
	v := url.Values{"client_id": {testClientID}, "redirect_uri": {testCallback}, "response_type": {"code"},
		"state": {"st"}, "scope": {"openid email profile"}, "nonce": {"n-1"}}
	for k, vs := range extra {
		v[k] = vs
	}
	return authorize(t, f, v).Get("code")
}

func oidcToken(t *testing.T, f *Fake, form url.Values, basic bool) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.Endpoints().TokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(testClientID, testSecret)
	}
	return do(t, req)
}

// TestOIDCWire: the one advertised client authentication is required,
// PKCE when advertised, string email_verified, thin id_tokens, RFC 7009
// revocation that wants the client authenticated.
func TestOIDCWire(t *testing.T) {
	u := DefaultUsers(OIDC)[0]
	for _, method := range []string{"client_secret_basic", "client_secret_post"} {
		t.Run(method, func(t *testing.T) {
			f := startOIDC(t, OIDCOptions{ClientAuth: method, PKCE: true, StringEmailVerified: true, ThinIDToken: true})
			d := get(t, f.URL()+"/.well-known/openid-configuration", "").decode(t)
			if am, _ := d["token_endpoint_auth_methods_supported"].([]any); len(am) != 1 || am[0] != method {
				t.Errorf("advertised %v", d["token_endpoint_auth_methods_supported"])
			}
			// PKCE advertised: a request without a challenge is refused.
			f.AutoApprove(u.ID)
			q := authorize(t, f, url.Values{"client_id": {testClientID}, "redirect_uri": {testCallback},
				"response_type": {"code"}, "state": {"st"}, "scope": {"openid"}})
			if q.Get("error") != "invalid_request" {
				t.Errorf("no challenge: %v", q)
			}
			pkce := url.Values{"code_challenge": {testChallenge}, "code_challenge_method": {"S256"}}
			basic := method == "client_secret_basic"
			form := url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {testCallback}, "code_verifier": {testVerifier}}
			if !basic {
				form.Set("client_id", testClientID)
				form.Set("client_secret", testSecret)
			}
			// The other method is refused.
			wrong := url.Values{"grant_type": {"authorization_code"}, "code": {oidcCode(t, f, u.ID, pkce)},
				"redirect_uri": {testCallback}, "code_verifier": {testVerifier}}
			if basic {
				wrong.Set("client_id", testClientID)
				wrong.Set("client_secret", testSecret)
			}
			if r := oidcToken(t, f, wrong, !basic); r.status != 401 || r.str(t, "error") != "invalid_client" {
				t.Errorf("the other client authentication: %d %s", r.status, r.body)
			}
			form.Set("code", oidcCode(t, f, u.ID, pkce))
			r := oidcToken(t, f, form, basic)
			if r.status != 200 {
				t.Fatalf("token: %d %s", r.status, r.body)
			}
			c := claims(t, f, r.str(t, "id_token"))
			if c["nonce"] != "n-1" || c["email"] != nil || c["azp"] != testClientID || c["at_hash"] == nil {
				t.Errorf("thin id_token claims %v", c)
			}
			access := r.str(t, "access_token")
			info := get(t, f.Endpoints().UserinfoURL, access).decode(t)
			if info["email_verified"] != "true" || info["email"] != u.Email {
				t.Errorf("userinfo %v", info)
			}
			if r.str(t, "refresh_token") != "" {
				t.Errorf("a refresh token without offline_access")
			}
			// Revocation: 401 without client authentication, 200 with.
			if r := postForm(t, f.Endpoints().RevokeURL, url.Values{"token": {access}}, ""); r.status != 401 {
				t.Errorf("unauthenticated revoke: %d", r.status)
			}
			rev := url.Values{"token": {access}}
			if !basic {
				rev.Set("client_id", testClientID)
				rev.Set("client_secret", testSecret)
			}
			req, _ := http.NewRequest(http.MethodPost, f.Endpoints().RevokeURL, strings.NewReader(rev.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if basic {
				req.SetBasicAuth(testClientID, testSecret)
			}
			if r := do(t, req); r.status != 200 {
				t.Errorf("revoke: %d %s", r.status, r.body)
			}
			if r := get(t, f.Endpoints().UserinfoURL, access); r.status != 401 {
				t.Errorf("userinfo after revoke: %d", r.status)
			}
		})
	}
}
