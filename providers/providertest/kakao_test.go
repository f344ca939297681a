package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

const (
	kakaoHong      = "9007199254740993" // 2^53+1: a float64 reads 9007199254740992
	kakaoNoEmail   = "9223372036854775807"
	kakaoNoProfile = "4611686018427387905"
	kakaoNothing   = "1234567890123"
)

func kakaoExchangeForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {testClientID},
		"redirect_uri": {testCallback}, "code": {code}, "code_verifier": {testVerifier}}
}

func kakaoLogin(t *testing.T, f *Fake, user, scope string) reply {
	t.Helper()
	code := f.IssueCode(user, testCallback, AuthParams{Scope: scope, Nonce: "n-1",
		CodeChallenge: testChallenge, CodeChallengeMethod: "S256"})
	r := postForm(t, f.Endpoints().TokenURL, kakaoExchangeForm(code), "")
	if r.status != http.StatusOK {
		t.Fatalf("token: got %d %s, want 200", r.status, r.body)
	}
	return r
}

func TestKakaoFlow(t *testing.T) {
	f, clk := start(t, Kakao, "")
	f.AutoApprove(kakaoHong)
	cb := authorize(t, f, authParamsFor(Kakao, url.Values{"scope": {"openid"}, "nonce": {"n-1"},
		"code_challenge": {testChallenge}, "code_challenge_method": {"S256"}}))
	tok := postForm(t, f.Endpoints().TokenURL, kakaoExchangeForm(cb.Get("code")), "")
	if tok.status != http.StatusOK {
		t.Fatalf("token: got %d %s, want 200", tok.status, tok.body)
	}
	golden(t, f, "kakao_token", tok.body)

	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, f.URL())
	if err != nil {
		t.Fatalf("oidc.NewProvider: %v", err)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: testClientID, Now: clk.Now}).Verify(ctx, tok.str(t, "id_token"))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if idt.Subject != kakaoHong || idt.Nonce != "n-1" {
		t.Errorf("id_token: got sub %q nonce %q, want %s n-1", idt.Subject, idt.Nonce, kakaoHong)
	}
	golden(t, f, "kakao_id_token_claims", idTokenPayload(t, f, tok.str(t, "id_token")))

	access := tok.str(t, "access_token")
	me := get(t, f.Endpoints().UserinfoURL, access)
	if !bytes.HasPrefix(me.body, []byte(`{"id":9007199254740993,`)) {
		t.Errorf("me: got %.40s…, want the id as an exact, unquoted JSON number", me.body)
	}
	golden(t, f, "kakao_me", me.body)
	oidcInfo := get(t, f.URL()+"/v1/oidc/userinfo", access)
	if oidcInfo.status != http.StatusOK {
		t.Fatalf("oidc userinfo: got %d, want 200", oidcInfo.status)
	}
	golden(t, f, "kakao_oidc_userinfo", oidcInfo.body)

	again := postForm(t, f.Endpoints().TokenURL, kakaoExchangeForm(cb.Get("code")), "")
	if again.status != http.StatusBadRequest || again.str(t, "error_code") != "KOE320" {
		t.Fatalf("reused code: got %d %s, want 400 KOE320", again.status, again.body)
	}
	golden(t, f, "kakao_error_reused_code", again.body)
}

func TestKakaoWithoutOpenID(t *testing.T) {
	f, _ := start(t, Kakao, "")
	tok := kakaoLogin(t, f, kakaoHong, "")
	if m := tok.decode(t); m["id_token"] != nil {
		t.Errorf("token without openid: got an id_token, want none")
	}
	if got := tok.str(t, "scope"); hasScope(got, "openid") || !hasScope(got, "account_email") {
		t.Errorf("scope: got %q, want the consent items without openid", got)
	}
	r := get(t, f.URL()+"/v1/oidc/userinfo", tok.str(t, "access_token"))
	if r.status != http.StatusForbidden {
		t.Errorf("oidc userinfo without openid: got %d, want 403", r.status)
	}
}

func TestKakaoTokenErrors(t *testing.T) {
	tests := []struct {
		name, secret string
		edit         func(url.Values)
		basic        bool
		contentType  string
		status       int
		wantErr      string
		wantCode     string
	}{
		{name: "basic auth refused", basic: true, status: 401, wantErr: "invalid_client", wantCode: "KOE010"},
		{name: "secret required, missing", secret: "s3cret", status: 401, wantErr: "invalid_client", wantCode: "KOE010"},
		{name: "secret required, wrong", secret: "s3cret", edit: func(v url.Values) { v.Set("client_secret", "x") },
			status: 401, wantErr: "invalid_client", wantCode: "KOE010"},
		{name: "secret required, right", secret: "s3cret", edit: func(v url.Values) { v.Set("client_secret", "s3cret") },
			status: 200},
		{name: "secret off, sent anyway", edit: func(v url.Values) { v.Set("client_secret", "whatever") }, status: 200},
		{name: "unknown client", edit: func(v url.Values) { v.Set("client_id", "other") },
			status: 401, wantErr: "invalid_client", wantCode: "KOE101"},
		{name: "json body", contentType: "application/json", status: 400, wantErr: "invalid_request"},
		{name: "wrong redirect_uri", edit: func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:1/cb") },
			status: 400, wantErr: "invalid_grant", wantCode: "KOE303"},
		{name: "wrong verifier", edit: func(v url.Values) { v.Set("code_verifier", strings.Repeat("b", 43)) },
			status: 400, wantErr: "invalid_grant", wantCode: "KOE320"},
		{name: "missing verifier", edit: func(v url.Values) { v.Del("code_verifier") },
			status: 400, wantErr: "invalid_grant", wantCode: "KOE320"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := start(t, Kakao, tt.secret)
			form := kakaoExchangeForm(f.IssueCode(kakaoHong, testCallback,
				AuthParams{CodeChallenge: testChallenge, CodeChallengeMethod: "S256"}))
			if tt.edit != nil {
				tt.edit(form)
			}
			req, _ := http.NewRequest(http.MethodPost, f.Endpoints().TokenURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.basic {
				req.SetBasicAuth(testClientID, "s3cret")
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
			if got := r.str(t, "error_code"); got != tt.wantCode {
				t.Errorf("error_code: got %q, want %q", got, tt.wantCode)
			}
		})
	}
}

func TestKakaoAuthorizeRefusesPlainPKCE(t *testing.T) {
	f, _ := start(t, Kakao, "")
	f.AutoApprove(kakaoHong)
	for _, method := range []string{"plain", ""} {
		cb := authorize(t, f, authParamsFor(Kakao, url.Values{"code_challenge": {testChallenge},
			"code_challenge_method": {method}}))
		if cb.Get("error") != "invalid_request" || cb.Get("code") != "" || cb.Get("state") != "st-123" {
			t.Errorf("method %q: got callback %v, want error=invalid_request with state", method, cb)
		}
	}
}

func TestKakaoRefreshRotation(t *testing.T) {
	tests := []struct {
		name       string
		after      time.Duration
		wantRotate bool
	}{
		{"fresh", time.Hour, false},
		{"31 days left", 29 * 24 * time.Hour, false},
		{"29 days left", 31 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, clk := start(t, Kakao, "")
			old := kakaoLogin(t, f, kakaoHong, "openid").str(t, "refresh_token")
			form := url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID}, "refresh_token": {old}}
			clk.Add(tt.after)
			r := postForm(t, f.Endpoints().TokenURL, form, "")
			if r.status != http.StatusOK {
				t.Fatalf("refresh: got %d %s, want 200", r.status, r.body)
			}
			m := r.decode(t)
			newRT, rotated := m["refresh_token"].(string)
			if rotated != tt.wantRotate {
				t.Fatalf("got rotated %v, want %v", rotated, tt.wantRotate)
			}
			if m["id_token"] == nil {
				t.Error("refresh with openid: got no id_token")
			}
			again := postForm(t, f.Endpoints().TokenURL, form, "")
			if tt.wantRotate {
				if again.status != 400 || again.str(t, "error_code") != "KOE322" {
					t.Errorf("old refresh token after rotation: got %d %s, want 400 KOE322", again.status, again.body)
				}
				form.Set("refresh_token", newRT)
				if r := postForm(t, f.Endpoints().TokenURL, form, ""); r.status != 200 {
					t.Errorf("new refresh token: got %d, want 200", r.status)
				}
			} else if again.status != 200 {
				t.Errorf("unrotated refresh token again: got %d, want 200", again.status)
			}
		})
	}
}

func TestKakaoRefreshRefused(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(t *testing.T, f *Fake, c *clock, access string)
	}{
		{"FailRefresh", func(_ *testing.T, f *Fake, _ *clock, _ string) { f.FailRefresh(kakaoHong) }},
		{"expired", func(_ *testing.T, _ *Fake, c *clock, _ string) { c.Add(61 * 24 * time.Hour) }},
		{"unlinked", func(t *testing.T, f *Fake, _ *clock, a string) { postForm(t, f.URL()+"/v1/user/unlink", nil, a) }},
		{"logged out", func(t *testing.T, f *Fake, _ *clock, a string) { postForm(t, f.URL()+"/v1/user/logout", nil, a) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, clk := start(t, Kakao, "")
			tok := kakaoLogin(t, f, kakaoHong, "")
			tt.spoil(t, f, clk, tok.str(t, "access_token"))
			form := url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID},
				"refresh_token": {tok.str(t, "refresh_token")}}
			r := postForm(t, f.Endpoints().TokenURL, form, "")
			if r.status != 400 || r.str(t, "error") != "invalid_grant" || r.str(t, "error_code") != "KOE322" {
				t.Errorf("got %d %s, want 400 invalid_grant KOE322", r.status, r.body)
			}
		})
	}
}

func TestKakaoLogoutAndUnlink(t *testing.T) {
	for _, path := range []string{"/v1/user/logout", "/v1/user/unlink"} {
		f, _ := start(t, Kakao, "")
		access := kakaoLogin(t, f, kakaoHong, "").str(t, "access_token")
		r := postForm(t, f.URL()+path, nil, access)
		if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"id":9007199254740993}` {
			t.Errorf("%s: got %d %s, want 200 {\"id\":9007199254740993}", path, r.status, r.body)
		}
		if got := f.RevokedTokens(); len(got) != 1 || got[0] != access {
			t.Errorf("%s: RevokedTokens got %d tokens, want the access token", path, len(got))
		}
		me := get(t, f.Endpoints().UserinfoURL, access)
		if me.status != http.StatusUnauthorized || me.decode(t)["code"] != json.Number("-401") {
			t.Errorf("%s: me afterwards got %d %s, want 401 code -401", path, me.status, me.body)
		}
	}
}

func TestKakaoMeVariants(t *testing.T) {
	tests := []struct {
		user, golden string
		wantAccount  bool
		wantProfile  bool
		wantEmail    bool
	}{
		{kakaoNoEmail, "kakao_me_no_email", true, true, false},
		{kakaoNoProfile, "kakao_me_no_profile", true, false, true},
		{kakaoNothing, "kakao_me_no_account", false, false, false},
	}
	for _, tt := range tests {
		f, _ := start(t, Kakao, "")
		me := get(t, f.Endpoints().UserinfoURL, kakaoLogin(t, f, tt.user, "").str(t, "access_token"))
		m := me.decode(t)
		if m["id"] != json.Number(tt.user) {
			t.Errorf("%s: got id %v, want %s", tt.golden, m["id"], tt.user)
		}
		acct, ok := m["kakao_account"].(map[string]any)
		if ok != tt.wantAccount {
			t.Fatalf("%s: got kakao_account %v, want %v", tt.golden, ok, tt.wantAccount)
		}
		if _, ok := acct["profile"]; ok != tt.wantProfile {
			t.Errorf("%s: got profile %v, want %v", tt.golden, ok, tt.wantProfile)
		}
		if _, ok := acct["email"]; ok != tt.wantEmail {
			t.Errorf("%s: got email %v, want %v", tt.golden, ok, tt.wantEmail)
		}
		golden(t, f, tt.golden, me.body)
	}
}

func TestKakaoAccessTokenExpiry(t *testing.T) {
	f, clk := start(t, Kakao, "")
	access := kakaoLogin(t, f, kakaoHong, "").str(t, "access_token")
	clk.Add(21598 * time.Second)
	if r := get(t, f.Endpoints().UserinfoURL, access); r.status != http.StatusOK {
		t.Fatalf("before expiry: got %d, want 200", r.status)
	}
	clk.Add(time.Second)
	r := get(t, f.Endpoints().UserinfoURL, access)
	if r.status != http.StatusUnauthorized || r.str(t, "msg") != "this access token is already expired" {
		t.Errorf("after expiry: got %d %s, want 401 already expired", r.status, r.body)
	}
	golden(t, f, "kakao_me_unauthorized", get(t, f.Endpoints().UserinfoURL, "forged").body)
}

func TestKakaoAccountLogout(t *testing.T) {
	f, _ := start(t, Kakao, "")
	q := url.Values{"client_id": {testClientID}, "logout_redirect_uri": {testCallback}, "state": {"s1"}}
	r := get(t, f.URL()+"/oauth/logout?"+q.Encode(), "")
	if got, want := r.header.Get("Location"), testCallback+"?state=s1"; r.status != http.StatusFound || got != want {
		t.Errorf("got %d Location %q, want 302 %q", r.status, got, want)
	}
}
