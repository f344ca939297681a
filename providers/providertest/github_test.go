package providertest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// githubCode runs the authorization for user and returns the code.
func githubCode(t *testing.T, f *Fake, user string, extra url.Values) string {
	t.Helper()
	f.AutoApprove(user)
	v := url.Values{"client_id": {testClientID}, "redirect_uri": {testCallback}, "state": {"st-123"},
		"scope": {"read:user user:email"}}
	for k, vs := range extra {
		v[k] = vs
	}
	q := authorize(t, f, v)
	if q.Get("state") != "st-123" || q.Get("code") == "" {
		t.Fatalf("callback %v", q)
	}
	return q.Get("code")
}

func githubTokenRequest(t *testing.T, f *Fake, form url.Values, accept string) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.Endpoints().TokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return do(t, req)
}

// TestGitHubWire: the quirks a client must handle, as GitHub has them.
func TestGitHubWire(t *testing.T) {
	f, _ := start(t, GitHub, "")
	users := DefaultUsers(GitHub)
	form := func(code string) url.Values {
		return url.Values{"client_id": {testClientID}, "client_secret": {testSecret}, "code": {code},
			"redirect_uri": {testCallback}}
	}

	// urlencoded unless asked for JSON; scope comma-separated.
	r := githubTokenRequest(t, f, form(githubCode(t, f, users[0].ID, nil)), "")
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		t.Fatalf("token reply Content-Type %q, want urlencoded", ct)
	}
	v, err := url.ParseQuery(string(r.body))
	if err != nil || v.Get("token_type") != "bearer" || v.Get("scope") != "read:user,user:email" || v.Get("access_token") == "" {
		t.Fatalf("token reply %q", r.body)
	}
	r = githubTokenRequest(t, f, form(githubCode(t, f, users[0].ID, nil)), "application/json")
	if r.str(t, "access_token") == "" {
		t.Fatalf("JSON token reply %q", r.body)
	}

	// A reused code: HTTP 200 with bad_verification_code.
	code := githubCode(t, f, users[1].ID, nil)
	r = githubTokenRequest(t, f, form(code), "")
	access := func() string { v, _ := url.ParseQuery(string(r.body)); return v.Get("access_token") }()
	r2 := githubTokenRequest(t, f, form(code), "")
	if v, _ := url.ParseQuery(string(r2.body)); r2.status != 200 || v.Get("error") != "bad_verification_code" {
		t.Errorf("reused code: %d %q", r2.status, r2.body)
	}

	// /user: private e-mail is null; /user/emails has it with flags.
	u := get(t, f.Endpoints().UserinfoURL, access).decode(t)
	if u["email"] != nil || u["name"] != "홍길동" || u["login"] != users[1].Nickname {
		t.Errorf("/user = %v", u)
	}
	emails := get(t, f.Endpoints().UserinfoURL+"/emails", access)
	if emails.status != 200 || !strings.Contains(string(emails.body), `"email":"gildong@example.kr","primary":true,"verified":true`) {
		t.Errorf("/user/emails = %d %s", emails.status, emails.body)
	}

	// No name: null, not "".
	r = githubTokenRequest(t, f, form(githubCode(t, f, users[2].ID, nil)), "")
	v, _ = url.ParseQuery(string(r.body))
	if u := get(t, f.Endpoints().UserinfoURL, v.Get("access_token")).decode(t); u["name"] != nil || u["email"] != nil {
		t.Errorf("/user of a user without name: %v", u)
	}

	// Without user:email, /user/emails is refused.
	r = githubTokenRequest(t, f, form(githubCode(t, f, users[0].ID, url.Values{"scope": {"read:user"}})), "")
	v, _ = url.ParseQuery(string(r.body))
	if got := get(t, f.Endpoints().UserinfoURL+"/emails", v.Get("access_token")); got.status != 404 {
		t.Errorf("/user/emails without user:email: %d", got.status)
	}

	// No User-Agent: 403; bad token: 401 Bad credentials.
	req, _ := http.NewRequest(http.MethodGet, f.Endpoints().UserinfoURL, nil)
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("User-Agent", "")
	if got := do(t, req); got.status != 403 {
		t.Errorf("without User-Agent: %d", got.status)
	}
	if got := get(t, f.Endpoints().UserinfoURL, "nope"); got.status != 401 || got.str(t, "message") != "Bad credentials" {
		t.Errorf("bad token: %d %s", got.status, got.body)
	}

	// Wrong secret: 200 with incorrect_client_credentials.
	bad := form(githubCode(t, f, users[0].ID, nil))
	bad.Set("client_secret", "wrong")
	r = githubTokenRequest(t, f, bad, "")
	if v, _ := url.ParseQuery(string(r.body)); v.Get("error") != "incorrect_client_credentials" {
		t.Errorf("wrong secret: %q", r.body)
	}

	// PKCE: checked when the authorization carried a challenge.
	code = githubCode(t, f, users[0].ID, url.Values{"code_challenge": {testChallenge}, "code_challenge_method": {"S256"}})
	noVerifier := githubTokenRequest(t, f, form(code), "")
	if v, _ := url.ParseQuery(string(noVerifier.body)); v.Get("error") != "bad_verification_code" {
		t.Errorf("missing verifier: %q", noVerifier.body)
	}
	code = githubCode(t, f, users[0].ID, url.Values{"code_challenge": {testChallenge}, "code_challenge_method": {"S256"}})
	withVerifier := form(code)
	withVerifier.Set("code_verifier", testVerifier)
	if v, _ := url.ParseQuery(string(githubTokenRequest(t, f, withVerifier, "").body)); v.Get("access_token") == "" {
		t.Errorf("right verifier refused")
	}

	// Denied consent.
	f.AutoApprove("")
	f.DenyConsent(true)
	q := authorize(t, f, url.Values{"client_id": {testClientID}, "redirect_uri": {testCallback}, "state": {"s"}})
	if q.Get("error") != "access_denied" || q.Get("error_uri") == "" {
		t.Errorf("denied: %v", q)
	}
}

// TestGitHubDeleteGrant: the client authenticates with Basic; the grant
// ends; an unknown token is 404.
func TestGitHubDeleteGrant(t *testing.T) {
	f, _ := start(t, GitHub, "")
	u := DefaultUsers(GitHub)[0]
	form := url.Values{"client_id": {testClientID}, "client_secret": {testSecret}, "code": {githubCode(t, f, u.ID, nil)}}
	v, _ := url.ParseQuery(string(githubTokenRequest(t, f, form, "").body))
	access := v.Get("access_token")
	grant := f.URL() + "/applications/" + testClientID + "/grant"
	del := func(basic bool, token string) int {
		req, _ := http.NewRequest(http.MethodDelete, grant, strings.NewReader(`{"access_token":"`+token+`"}`))
		if basic {
			req.SetBasicAuth(testClientID, testSecret)
		}
		return do(t, req).status
	}
	if got := del(false, access); got != 401 {
		t.Errorf("without client authentication: %d, want 401", got)
	}
	if got := del(true, access); got != 204 {
		t.Errorf("delete grant: %d, want 204", got)
	}
	if got := get(t, f.Endpoints().UserinfoURL, access); got.status != 401 {
		t.Errorf("/user after the grant ended: %d", got.status)
	}
	if got := del(true, access); got != 404 {
		t.Errorf("again: %d, want 404", got)
	}
}
