package providertest

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

const (
	naverHong    = "K6o2WIMbuK3qT0Zq8pXz1JdFHaRr7eDUj4n5LsQcBvY"
	naverNoEmail = "Zx9_yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE-dCbA9z8Y7"
	naverNoName  = "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7bC9d"
)

func naverTokenQuery(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {testClientID},
		"client_secret": {testSecret}, "code": {code}, "state": {"st-123"}}
}

func TestNaverFlow(t *testing.T) {
	f, _ := start(t, Naver, "")
	f.AutoApprove(naverHong)
	// Naver ignores PKCE: a challenge at authorize needs no verifier later.
	cb := authorize(t, f, authParamsFor(Naver, url.Values{"code_challenge": {testChallenge},
		"code_challenge_method": {"S256"}}))
	if got := cb.Get("state"); got != "st-123" {
		t.Errorf("state: got %q, want st-123", got)
	}
	// Naver takes the token request as a GET with a query.
	tok := get(t, f.Endpoints().TokenURL+"?"+naverTokenQuery(cb.Get("code")).Encode(), "")
	if tok.status != http.StatusOK || tok.str(t, "access_token") == "" {
		t.Fatalf("token: got %d %s, want 200 with a token", tok.status, tok.body)
	}
	if got := tok.decode(t)["expires_in"]; got != "3600" {
		t.Errorf("expires_in: got %#v, want the string \"3600\"", got)
	}
	golden(t, f, "naver_token", tok.body)

	me := get(t, f.Endpoints().UserinfoURL, tok.str(t, "access_token"))
	if me.status != http.StatusOK {
		t.Fatalf("me: got %d, want 200", me.status)
	}
	golden(t, f, "naver_me", me.body)

	// A reused code is refused with HTTP 200.
	again := postForm(t, f.Endpoints().TokenURL, naverTokenQuery(cb.Get("code")), "")
	if again.status != http.StatusOK || again.str(t, "error") != "invalid_request" {
		t.Fatalf("reused code: got %d %s, want 200 invalid_request", again.status, again.body)
	}
	golden(t, f, "naver_error_reused_code", again.body)
}

func TestNaverTokenErrorsAreHTTP200(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(url.Values)
		advance time.Duration
		wantErr string
	}{
		{"wrong secret", func(v url.Values) { v.Set("client_secret", "nope") }, 0, "invalid_request"},
		{"unknown client", func(v url.Values) { v.Set("client_id", "other") }, 0, "unauthorized_client"},
		{"missing state", func(v url.Values) { v.Del("state") }, 0, "invalid_request"},
		{"wrong state", func(v url.Values) { v.Set("state", "other") }, 0, "invalid_request"},
		{"unknown code", func(v url.Values) { v.Set("code", "NOPE") }, 0, "invalid_request"},
		{"expired code", nil, 6 * time.Minute, "invalid_request"},
		{"removed grant_type=delete", func(v url.Values) { v.Set("grant_type", "delete") }, 0, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, clk := start(t, Naver, "")
			form := naverTokenQuery(f.IssueCode(naverHong, testCallback, AuthParams{State: "st-123"}))
			if tt.edit != nil {
				tt.edit(form)
			}
			clk.Add(tt.advance)
			r := postForm(t, f.Endpoints().TokenURL, form, "")
			if r.status != http.StatusOK {
				t.Fatalf("got status %d, want 200", r.status)
			}
			if got := r.str(t, "error"); got != tt.wantErr {
				t.Errorf("error: got %q, want %q", got, tt.wantErr)
			}
			if r.decode(t)["access_token"] != nil {
				t.Error("got an access_token alongside the error")
			}
		})
	}
}

func TestNaverMissingFields(t *testing.T) {
	tests := []struct {
		user, golden string
		absent       []string
	}{
		{naverNoEmail, "naver_me_no_email", []string{"email", "profile_image"}},
		{naverNoName, "naver_me_no_name", []string{"name", "profile_image"}},
	}
	for _, tt := range tests {
		f, _ := start(t, Naver, "")
		tok := postForm(t, f.Endpoints().TokenURL, naverTokenQuery(f.IssueCode(tt.user, testCallback, AuthParams{})), "")
		me := get(t, f.Endpoints().UserinfoURL, tok.str(t, "access_token"))
		resp, _ := me.decode(t)["response"].(map[string]any)
		if resp["id"] != tt.user {
			t.Errorf("%s: got id %v, want %s", tt.golden, resp["id"], tt.user)
		}
		for _, k := range tt.absent {
			if _, ok := resp[k]; ok {
				t.Errorf("%s: got %q present, want it missing", tt.golden, k)
			}
		}
		golden(t, f, tt.golden, me.body)
	}
}

func TestNaverBadToken(t *testing.T) {
	f, _ := start(t, Naver, "")
	for _, tok := range []string{"", "AAAAOforged"} {
		r := get(t, f.Endpoints().UserinfoURL, tok)
		if r.status != http.StatusUnauthorized || r.str(t, "resultcode") != "024" {
			t.Errorf("me with %q: got %d %s, want 401 resultcode 024", tok, r.status, r.body)
		}
	}
	golden(t, f, "naver_me_unauthorized", get(t, f.Endpoints().UserinfoURL, "x").body)
}

func TestNaverRefresh(t *testing.T) {
	f, _ := start(t, Naver, "")
	tok := postForm(t, f.Endpoints().TokenURL, naverTokenQuery(f.IssueCode(naverHong, testCallback, AuthParams{})), "")
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID},
		"client_secret": {testSecret}, "refresh_token": {tok.str(t, "refresh_token")}}
	for i := range 2 { // the old refresh token keeps working
		r := postForm(t, f.Endpoints().TokenURL, form, "")
		m := r.decode(t)
		if m["access_token"] == nil || m["refresh_token"] != nil || m["expires_in"] != "3600" {
			t.Fatalf("refresh %d: got %s, want a new access token, no refresh token", i, r.body)
		}
	}
	f.FailRefresh(naverHong)
	r := postForm(t, f.Endpoints().TokenURL, form, "")
	if r.status != http.StatusOK || r.str(t, "error") != "invalid_request" ||
		r.str(t, "error_description") != "invalid refresh token" {
		t.Errorf("failed refresh: got %d %s, want 200 invalid_request", r.status, r.body)
	}
}

func TestNaverRevoke(t *testing.T) {
	f, _ := start(t, Naver, "")
	tok := postForm(t, f.Endpoints().TokenURL, naverTokenQuery(f.IssueCode(naverHong, testCallback, AuthParams{})), "")
	access, refresh := tok.str(t, "access_token"), tok.str(t, "refresh_token")
	form := url.Values{"client_id": {testClientID}, "client_secret": {testSecret},
		"token": {access}, "token_type_hint": {"access_token"}}
	for _, token := range []string{access, "unknown-token"} {
		form.Set("token", token)
		r := postForm(t, f.Endpoints().RevokeURL, form, "")
		if r.status != http.StatusOK || len(r.body) != 0 {
			t.Errorf("revoke %q: got %d %q, want 200 with an empty body", token, r.status, r.body)
		}
	}
	if got := f.RevokedTokens(); len(got) != 1 || got[0] != access {
		t.Errorf("RevokedTokens: got %d, want the access token only", len(got))
	}
	if r := get(t, f.Endpoints().UserinfoURL, access); r.status != http.StatusUnauthorized {
		t.Errorf("me after revoke: got %d, want 401", r.status)
	}
	rf := url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID},
		"client_secret": {testSecret}, "refresh_token": {refresh}}
	if r := postForm(t, f.Endpoints().TokenURL, rf, ""); r.str(t, "error") == "" {
		t.Errorf("refresh after revoke: got %s, want an error", r.body)
	}
}

func TestNaverAuthorizeNeedsState(t *testing.T) {
	f, _ := start(t, Naver, "")
	f.AutoApprove(naverHong)
	p := authParamsFor(Naver, nil)
	p.Del("state")
	r := get(t, f.Endpoints().AuthURL+"?"+p.Encode(), "")
	if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
		t.Errorf("no state: got %d Location %q, want a 400 page", r.status, r.header.Get("Location"))
	}
}
