package proxy_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/socialgate/socialgate/providers/providertest"
)

// TestAttackEmailRules: allow.emails and allow.email_domains match the
// whole address exactly (ASCII case aside), only when the provider says it
// is verified; allow.providers matches the provider.
func TestAttackEmailRules(t *testing.T) {
	type want struct{ emails, domain, kakaoOnly bool }
	cases := []struct {
		kind  string
		user  providertest.User
		trust bool // naver: trust_email
		want  want
	}{
		{"google", providertest.User{ID: "1001", Email: "boss@example.com", EmailVerified: true}, false, want{true, true, false}},
		{"google", providertest.User{ID: "1002", Email: "BOSS@Example.COM", EmailVerified: true}, false, want{true, true, false}},
		{"google", providertest.User{ID: "1003", Email: "boss@example.com"}, false, want{}},
		{"google", providertest.User{ID: "1004", Email: "a@evil.com@example.com", EmailVerified: true}, false, want{}},
		{"google", providertest.User{ID: "1005", Email: "\u212Aim@example.com", EmailVerified: true}, false, want{false, true, false}},
		{"google", providertest.User{ID: "1006", Email: "boss@example.com.evil.example", EmailVerified: true}, false, want{}},
		{"google", providertest.User{ID: "1007", Email: "boss@sub.example.com", EmailVerified: true}, false, want{}},
		{"google", providertest.User{ID: "1008", Email: "boss@ex\u0430mple.com", EmailVerified: true}, false, want{}},
		{"google", providertest.User{ID: "1009", Email: "boss@example.com ", EmailVerified: true}, false, want{}},
		{"google", providertest.User{ID: "1010", Email: "boss@@example.com", EmailVerified: true}, false, want{}},
		{"google", providertest.User{ID: "1011", Email: "boss@example.com.", EmailVerified: true}, false, want{}},
		{"google", providertest.User{ID: "1012", Email: `"boss@example.com"@evil.example`, EmailVerified: true}, false, want{}},
		{"google", providertest.User{ID: "1013", Email: "boss%40example.com@evil.example", EmailVerified: true}, false, want{}},
		{"google", providertest.User{ID: "1014", Email: "@example.com", EmailVerified: true}, false, want{}},
		{"google", providertest.User{ID: "1015", Name: "no e-mail"}, false, want{}},
		{"kakao", providertest.User{ID: "2001", Email: "kim@example.com", EmailVerified: true, Nickname: "김"}, false, want{true, true, true}},
		{"kakao", providertest.User{ID: "2002", Email: "boss@example.com", Nickname: "보스"}, false, want{false, false, true}},
		{"naver", providertest.User{ID: "n-3001", Email: "boss@example.com", Nickname: "보스"}, false, want{}},
		{"naver", providertest.User{ID: "n-3002", Email: "boss@example.com", Nickname: "보스"}, true, want{true, true, false}},
	}
	users := map[string][]providertest.User{}
	for _, c := range cases {
		users[c.kind] = append(users[c.kind], c.user)
	}
	for _, trust := range []bool{false, true} {
		a := newAttackGateway(t, gatewayConfig{users: users, naverTrust: trust})
		for _, c := range cases {
			if c.trust != trust {
				continue
			}
			b := newBrowser(t)
			a.fakes[c.kind].AutoApprove(c.user.ID)
			if resp, _ := b.get(a.URL + "/oauth2/start/" + c.kind + "?rd=/public/"); resp.StatusCode != http.StatusOK {
				t.Errorf("%s %q: login ended with status %d", c.kind, c.user.Email, resp.StatusCode)
			}
			for path, allowed := range map[string]bool{"/emails/x": c.want.emails, "/domain/x": c.want.domain,
				"/kakao-only/x": c.want.kakaoOnly} {
				resp := b.do(http.MethodGet, a.URL+path, nil)
				resp.Body.Close()
				if got := resp.StatusCode == http.StatusOK; got != allowed {
					t.Errorf("%s %q (verified %v, trust %v) on %s: status %d, want allowed=%v",
						c.kind, c.user.Email, c.user.EmailVerified, trust, path, resp.StatusCode, allowed)
				}
				if !allowed && resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s %q on %s: status %d, want 403", c.kind, c.user.Email, path, resp.StatusCode)
				}
			}
		}
	}
}

// hygiene is what every gateway page, error and redirect on /oauth2/
// must send: the callback URL carries a code, the start URL a state.
var hygiene = map[string]string{
	"Content-Security-Policy": "frame-ancestors 'none'",
	"X-Frame-Options":         "DENY",
	"Referrer-Policy":         "no-referrer",
	"Cache-Control":           "no-store",
	"X-Content-Type-Options":  "nosniff",
}

// TestAttackResponseHeaders: the sign-in page, the start and callback
// redirects, every error (HTML and JSON) and the sign-out page send a CSP,
// X-Frame-Options: DENY, Referrer-Policy: no-referrer, Cache-Control:
// no-store and nosniff.
func TestAttackResponseHeaders(t *testing.T) {
	a := newAttackGateway(t, gatewayConfig{})
	kakao := providertest.DefaultUsers("kakao")
	_, cookie := a.signIn(t, "kakao", kakao[1].ID) // unverified e-mail: 403 on /emails
	b := newBrowser(t)
	cb := a.callbackURL(b, "kakao", kakao[0].ID, "/private/x")
	good := b.do(http.MethodGet, cb, nil)
	good.Body.Close()
	reused := b.do(http.MethodGet, cb, nil)
	reused.Body.Close()
	start := b.do(http.MethodGet, a.URL+"/oauth2/start/google?rd=/x", nil)
	start.Body.Close()
	responses := map[string]*http.Response{"callback 302": good, "callback reused 400": reused, "start 302": start}
	for _, p := range []struct{ name, path, accept, cookie string }{
		{"sign-in page", "/oauth2/sign_in?rd=/x", "text/html", ""},
		{"sign-out page", "/oauth2/sign_out", "text/html", cookie},
		{"callback error page", "/oauth2/callback/kakao?code=c0de-value&state=st4te-value", "text/html", ""},
		{"callback error JSON", "/oauth2/callback/kakao?code=c0de-value&state=st4te-value", "application/json", ""},
		{"callback denied", "/oauth2/callback/kakao?error=access_denied&state=x", "text/html", ""},
		{"unknown provider", "/oauth2/start/nope", "text/html", ""},
		{"unknown endpoint", "/oauth2/nothing", "application/json", ""},
		{"userinfo 401", "/oauth2/userinfo", "application/json", ""},
		{"forbidden page", "/emails/x", "text/html", cookie},
		{"bad path page", "/public/%2e%2e/x", "text/html", ""},
	} {
		responses[p.name] = send(t, http.MethodGet, a.URL+p.path, p.cookie, p.accept, "")
	}
	for name, resp := range responses {
		for k, want := range hygiene {
			if got := resp.Header.Get(k); !strings.Contains(got, want) {
				t.Errorf("%s (%d): %s = %q, want it to contain %q", name, resp.StatusCode, k, got, want)
			}
		}
	}
	if got := responses["forbidden page"].StatusCode; got != http.StatusForbidden {
		t.Errorf("forbidden page: status %d, want 403", got)
	}
}

// TestAttackNoSecretsInLogs runs every flow with its failures (rejected and
// replayed codes, foreign states, provider errors, bad cookies, sign-out,
// forward-auth with a code in an unreadable URI) and checks the log holds
// none of the secrets that went by. The check itself must see each kind of
// secret, or it would prove nothing.
func TestAttackNoSecretsInLogs(t *testing.T) {
	a := newAttackGateway(t, gatewayConfig{trusted: []string{"127.0.0.1/32"}, kakaoOIDC: true})
	for _, kind := range []string{"google", "naver", "kakao"} {
		users := providertest.DefaultUsers(kind)
		b, cookie := a.signIn(t, kind, users[0].ID)
		cb := a.callbackURL(b, kind, users[0].ID, "/private/x")
		for _, u := range []string{cb, cb, a.URL + "/oauth2/callback/" + kind + "?code=" + url.QueryEscape("4/0A-secret-code") + "&state=secret-state-value-123"} {
			resp := b.do(http.MethodGet, u, nil)
			resp.Body.Close()
		}
		foreign := a.callbackURL(newBrowser(t), kind, users[0].ID, "/private/x")
		resp := b.do(http.MethodGet, foreign+"&error=server_error&error_description=token%3Dsecret-in-description", nil)
		resp.Body.Close()
		send(t, http.MethodGet, a.URL+"/oauth2/auth", cookie, "application/json", "")
		req, _ := http.NewRequest(http.MethodGet, a.URL+"/oauth2/auth", nil)
		req.Header.Set("Cookie", cookie)
		req.Header.Set("X-Forwarded-Uri", "/oauth2/callback/"+kind+"?code=leaky-code-123456&state=%zz")
		if r, err := noRedirects.Do(req); err == nil {
			r.Body.Close()
		}
		send(t, http.MethodGet, a.URL+"/private/x", cookie[:len(cookie)-3], "text/html", "")
		m := csrfRE.FindStringSubmatch(httptestGet(t, a.URL+"/oauth2/sign_out", cookie))
		if m != nil {
			send(t, http.MethodPost, a.URL+"/oauth2/sign_out", cookie, "text/html", "csrf="+m[1][:4])
		}
	}
	if a.logs.String() == "" {
		t.Fatal("nothing was logged; the check would prove nothing")
	}
	seen := map[string]bool{}
	for _, s := range gatewaySecrets(a.gateway) {
		for _, kind := range []string{"session id", "pending state", "csrf token", "access token", "refresh token",
			"id token", "client secret", "code sent", "state sent", "code_verifier sent", "nonce sent", "cookie _socialgate"} {
			if strings.Contains(s.what, kind) {
				seen[kind] = true
			}
		}
	}
	for _, kind := range []string{"session id", "pending state", "csrf token", "access token", "refresh token",
		"client secret", "code sent", "state sent", "code_verifier sent", "nonce sent", "cookie _socialgate"} {
		// The id_token is not kept after login, so there is none to look for.
		if !seen[kind] {
			t.Errorf("the log check saw no %s", kind)
		}
	}
	assertNoSecretsLogged(t, a.gateway)
	logs := a.logs.String()
	for _, v := range []string{"leaky-code-123456", "secret-state-value-123", "4/0A-secret-code", "4%2F0A-secret-code"} {
		if strings.Contains(logs, v) {
			t.Errorf("%q leaked into the log", v)
		}
	}
}

// TestAttackForwardAuthPolicy: /oauth2/auth asks the route's policy about
// the URI a trusted proxy names, and refuses a URI it cannot read instead
// of answering 202 for it.
func TestAttackForwardAuthPolicy(t *testing.T) {
	a := newAttackGateway(t, gatewayConfig{trusted: []string{"127.0.0.1/32"}})
	_, cookie := a.signIn(t, "kakao", providertest.DefaultUsers("kakao")[1].ID) // unverified e-mail
	for _, tc := range []struct {
		uri  string
		want int
	}{
		{"/public/x", http.StatusAccepted},
		{"/private/x", http.StatusAccepted},
		{"/emails/x", http.StatusForbidden},
		{"/emails/x?y=%zz", http.StatusForbidden},
		{"/emails/%zz", http.StatusBadRequest},
		{"/emails/%2e%2e/public", http.StatusBadRequest},
		{"/public/..%2femails", http.StatusBadRequest},
		{"/public/../emails/x", http.StatusForbidden},
		{"/public/..;/emails/x", http.StatusBadRequest},
		{"/public/..／emails", http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(http.MethodGet, a.URL+"/oauth2/auth", nil)
		req.Header.Set("Cookie", cookie)
		req.Header.Set("X-Forwarded-Uri", tc.uri)
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("X-Forwarded-Uri %q: status %d, want %d", tc.uri, resp.StatusCode, tc.want)
		}
	}
}
