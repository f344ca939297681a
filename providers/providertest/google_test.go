package providertest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

const googleHong = "110169484474386276334"

func googleExchangeForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {testClientID},
		"client_secret": {testSecret}, "redirect_uri": {testCallback}, "code_verifier": {testVerifier}}
}

func TestGoogleFlow(t *testing.T) {
	f, clk := start(t, Google, "")
	f.AutoApprove(googleHong)
	cb := authorize(t, f, authParamsFor(Google, url.Values{"nonce": {"n-0S6"}, "access_type": {"offline"},
		"code_challenge": {testChallenge}, "code_challenge_method": {"S256"}}))
	code := cb.Get("code")
	if !strings.HasPrefix(code, "4/0A") {
		t.Errorf("code: got %q, want Google's 4/0A… form", code)
	}
	if got, want := cb.Get("state"), "st-123"; got != want {
		t.Errorf("state: got %q, want %q", got, want)
	}
	if got, want := cb.Get("scope"), "openid "+googleEmailScope+" "+googleProfileScope; got != want {
		t.Errorf("callback scope: got %q, want %q", got, want)
	}

	tok := postForm(t, f.Endpoints().TokenURL, googleExchangeForm(code), "")
	if tok.status != http.StatusOK {
		t.Fatalf("token: got %d %s, want 200", tok.status, tok.body)
	}
	m := tok.decode(t)
	if m["expires_in"] != json.Number("3599") || m["token_type"] != "Bearer" {
		t.Errorf("token: got expires_in %v token_type %v, want 3599 Bearer", m["expires_in"], m["token_type"])
	}
	if m["refresh_token"] == nil {
		t.Error("token: got no refresh_token on first offline consent, want one")
	}
	golden(t, f, "google_token", tok.body)
	access := tok.str(t, "access_token")

	// go-oidc, as the gateway uses it, must accept the id_token.
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, f.URL())
	if err != nil {
		t.Fatalf("oidc.NewProvider: %v", err)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: testClientID, Now: clk.Now}).Verify(ctx, tok.str(t, "id_token"))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := idt.VerifyAccessToken(access); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	if got, want := idt.Nonce, "n-0S6"; got != want {
		t.Errorf("nonce: got %q, want %q", got, want)
	}
	golden(t, f, "google_id_token_claims", idTokenPayload(t, f, tok.str(t, "id_token")))

	info := get(t, f.Endpoints().UserinfoURL, access)
	if info.status != http.StatusOK {
		t.Fatalf("userinfo: got %d, want 200", info.status)
	}
	golden(t, f, "google_userinfo", info.body)

	again := postForm(t, f.Endpoints().TokenURL, googleExchangeForm(code), "")
	if again.status != http.StatusBadRequest {
		t.Errorf("reused code: got status %d, want 400", again.status)
	}
	golden(t, f, "google_error_reused_code", again.body)
}

func TestGoogleTokenErrors(t *testing.T) {
	pkce := AuthParams{Scope: "openid", CodeChallenge: testChallenge, CodeChallengeMethod: "S256"}
	tests := []struct {
		name       string
		params     AuthParams
		edit       func(url.Values)
		basic      [2]string
		advance    time.Duration
		status     int
		wantErr    string
		wantDetail string
	}{
		{name: "wrong secret", params: pkce, edit: func(v url.Values) { v.Set("client_secret", "nope") },
			status: 401, wantErr: "invalid_client", wantDetail: "Unauthorized"},
		{name: "unknown client", params: pkce, edit: func(v url.Values) { v.Set("client_id", "other") },
			status: 401, wantErr: "invalid_client"},
		{name: "wrong redirect_uri", params: pkce, edit: func(v url.Values) { v.Set("redirect_uri", testCallback+"/x") },
			status: 400, wantErr: "redirect_uri_mismatch"},
		{name: "wrong verifier", params: pkce, edit: func(v url.Values) { v.Set("code_verifier", strings.Repeat("a", 43)) },
			status: 400, wantErr: "invalid_grant", wantDetail: "Bad Request"},
		{name: "missing verifier", params: pkce, edit: func(v url.Values) { v.Del("code_verifier") },
			status: 400, wantErr: "invalid_grant"},
		{name: "plain challenge, S256 verifier", params: AuthParams{Scope: "openid", CodeChallenge: testChallenge},
			status: 400, wantErr: "invalid_grant"},
		{name: "expired code", params: pkce, advance: 6 * time.Minute, status: 400, wantErr: "invalid_grant"},
		{name: "unknown code", params: pkce, edit: func(v url.Values) { v.Set("code", "4/0Aforged") },
			status: 400, wantErr: "invalid_grant"},
		{name: "bad grant_type", params: pkce, edit: func(v url.Values) { v.Set("grant_type", "password") },
			status: 400, wantErr: "unsupported_grant_type"},
		{name: "basic auth ok", params: pkce, basic: [2]string{testClientID, testSecret},
			edit: func(v url.Values) { v.Del("client_secret"); v.Del("client_id") }, status: 200},
		{name: "basic auth wrong secret", params: pkce, basic: [2]string{testClientID, "nope"},
			edit: func(v url.Values) { v.Del("client_secret") }, status: 401, wantErr: "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, clk := start(t, Google, "")
			form := googleExchangeForm(f.IssueCode(googleHong, testCallback, tt.params))
			if tt.edit != nil {
				tt.edit(form)
			}
			clk.Add(tt.advance)
			req, _ := http.NewRequest(http.MethodPost, f.Endpoints().TokenURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.basic[0] != "" {
				req.SetBasicAuth(url.QueryEscape(tt.basic[0]), url.QueryEscape(tt.basic[1]))
			}
			r := do(t, req)
			if r.status != tt.status {
				t.Fatalf("got status %d (%s), want %d", r.status, r.body, tt.status)
			}
			if tt.status == 200 {
				return
			}
			if got := r.str(t, "error"); got != tt.wantErr {
				t.Errorf("error: got %q, want %q", got, tt.wantErr)
			}
			if got := r.str(t, "error_description"); tt.wantDetail != "" && got != tt.wantDetail {
				t.Errorf("error_description: got %q, want %q", got, tt.wantDetail)
			}
		})
	}
}

func TestGoogleRefreshTokenOnlyOnFirstConsent(t *testing.T) {
	f, _ := start(t, Google, "")
	exchange := func(a AuthParams) map[string]any {
		t.Helper()
		r := postForm(t, f.Endpoints().TokenURL, googleExchangeForm(f.IssueCode(googleHong, testCallback, a)), "")
		if r.status != http.StatusOK {
			t.Fatalf("token: got %d %s, want 200", r.status, r.body)
		}
		return r.decode(t)
	}
	steps := []struct {
		name        string
		params      AuthParams
		wantRefresh bool
	}{
		{"online", AuthParams{Scope: "openid"}, false},
		{"first offline", AuthParams{Scope: "openid", AccessTypeOffline: true}, true},
		{"second offline", AuthParams{Scope: "openid", AccessTypeOffline: true}, false},
		{"offline with prompt=consent", AuthParams{Scope: "openid", AccessTypeOffline: true, Prompt: "consent"}, true},
	}
	var refresh string
	for _, s := range steps {
		m := exchange(s.params)
		rt, got := m["refresh_token"].(string)
		if got != s.wantRefresh {
			t.Fatalf("%s: got refresh token %v, want %v", s.name, got, s.wantRefresh)
		}
		if got {
			refresh = rt
		}
	}

	refreshForm := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh},
		"client_id": {testClientID}, "client_secret": {testSecret}}
	r := postForm(t, f.Endpoints().TokenURL, refreshForm, "")
	if r.status != http.StatusOK || r.str(t, "access_token") == "" || r.decode(t)["refresh_token"] != nil {
		t.Fatalf("refresh: got %d %s, want 200 with a new access token and no refresh token", r.status, r.body)
	}
	if c := claims(t, f, r.str(t, "id_token")); c["nonce"] != nil {
		t.Errorf("refreshed id_token: got nonce %v, want none", c["nonce"])
	}
	access := r.str(t, "access_token")

	if rv := postForm(t, f.Endpoints().RevokeURL, url.Values{"token": {refresh}}, ""); rv.status != http.StatusOK {
		t.Fatalf("revoke: got %d, want 200", rv.status)
	}
	if got := f.RevokedTokens(); len(got) != 1 || got[0] != refresh {
		t.Errorf("RevokedTokens: got %d tokens, want the refresh token", len(got))
	}
	if r := postForm(t, f.Endpoints().TokenURL, refreshForm, ""); r.status != 400 || r.str(t, "error") != "invalid_grant" {
		t.Errorf("refresh after revoke: got %d %s, want 400 invalid_grant", r.status, r.body)
	}
	if r := get(t, f.Endpoints().UserinfoURL, access); r.status != http.StatusUnauthorized {
		t.Errorf("userinfo after revoke: got %d, want 401", r.status)
	}
	if rv := postForm(t, f.Endpoints().RevokeURL, url.Values{"token": {refresh}}, ""); rv.status != 400 {
		t.Errorf("revoke twice: got %d, want 400 invalid_token", rv.status)
	}
	if m := exchange(AuthParams{Scope: "openid", AccessTypeOffline: true}); m["refresh_token"] == nil {
		t.Error("offline after revoke: got no refresh token, want a new one")
	}
}

func TestGoogleFailRefresh(t *testing.T) {
	f, _ := start(t, Google, "")
	r := postForm(t, f.Endpoints().TokenURL, googleExchangeForm(f.IssueCode(googleHong, testCallback,
		AuthParams{Scope: "openid", AccessTypeOffline: true})), "")
	f.FailRefresh(googleHong)
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.str(t, "refresh_token")},
		"client_id": {testClientID}, "client_secret": {testSecret}}
	got := postForm(t, f.Endpoints().TokenURL, form, "")
	if got.status != 400 || got.str(t, "error") != "invalid_grant" {
		t.Errorf("refresh: got %d %s, want 400 invalid_grant", got.status, got.body)
	}
	f.FailRefresh("")
	if got := postForm(t, f.Endpoints().TokenURL, form, ""); got.status != 200 {
		t.Errorf("refresh after FailRefresh(\"\"): got %d, want 200", got.status)
	}
}

func TestGoogleScopesLimitClaims(t *testing.T) {
	tests := []struct {
		scope     string
		wantEmail bool
		wantName  bool
	}{
		{"openid", false, false},
		{"openid email", true, false},
		{"openid profile", false, true},
		{"openid https://www.googleapis.com/auth/userinfo.email profile", true, true},
	}
	for _, tt := range tests {
		f, _ := start(t, Google, "")
		r := postForm(t, f.Endpoints().TokenURL, googleExchangeForm(f.IssueCode(googleHong, testCallback,
			AuthParams{Scope: tt.scope})), "")
		c := claims(t, f, r.str(t, "id_token"))
		info := get(t, f.Endpoints().UserinfoURL, r.str(t, "access_token")).decode(t)
		for name, m := range map[string]map[string]any{"id_token": c, "userinfo": info} {
			if _, got := m["email"]; got != tt.wantEmail {
				t.Errorf("scope %q %s: got email %v, want %v", tt.scope, name, got, tt.wantEmail)
			}
			if _, got := m["name"]; got != tt.wantName {
				t.Errorf("scope %q %s: got name %v, want %v", tt.scope, name, got, tt.wantName)
			}
		}
	}
}

func TestGoogleUserinfoExpiredToken(t *testing.T) {
	f, clk := start(t, Google, "")
	r := postForm(t, f.Endpoints().TokenURL, googleExchangeForm(f.IssueCode(googleHong, testCallback,
		AuthParams{Scope: "openid"})), "")
	clk.Add(3599 * time.Second)
	got := get(t, f.Endpoints().UserinfoURL, r.str(t, "access_token"))
	if got.status != http.StatusUnauthorized || !strings.Contains(got.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("userinfo: got %d %q, want 401 with WWW-Authenticate invalid_token", got.status, got.header.Get("WWW-Authenticate"))
	}
}
