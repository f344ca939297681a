package providers

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestTokenRequestShape checks what each provider's token endpoint receives.
func TestTokenRequestShape(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		want    []string // form keys that must be present
		absent  []string // form keys that must be absent
		userinf string
	}{
		{"kakao without secret", Options{Name: "kakao"},
			[]string{"grant_type", "code", "redirect_uri", "client_id", "code_verifier"},
			[]string{"client_secret", "state"}, "kakao_user_full.json"},
		{"kakao with secret", Options{Name: "kakao", ClientSecret: testSecret},
			[]string{"grant_type", "code", "redirect_uri", "client_id", "code_verifier", "client_secret"},
			[]string{"state"}, "kakao_user_full.json"},
		{"naver", Options{Name: "naver"},
			[]string{"grant_type", "code", "client_id", "client_secret", "state"},
			[]string{"code_verifier"}, "naver_profile_full.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			s.handle("/token", reply(200, golden(t, "kakao_token.json")))
			s.handle("/userinfo", reply(200, golden(t, tt.userinf)))
			tt.o.Endpoints = s.endpoints()
			p := newProvider(t, tt.o)
			a := p.NewAuthRequest()
			if _, _, err := p.Exchange(context.Background(), "the-code", a); err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			reqs := s.requests("/token")
			if len(reqs) != 1 {
				t.Fatalf("got %d token requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost {
				t.Errorf("got method %s, want POST", r.Method)
			}
			if h := r.Header.Get("Authorization"); h != "" {
				t.Errorf("got Authorization %q, want none (secrets in the body only)", h)
			}
			if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
				t.Errorf("got Content-Type %q, want a form", r.Header.Get("Content-Type"))
			}
			if len(r.Query) != 0 {
				t.Errorf("got query %v, want nothing in the URL", r.Query)
			}
			for _, k := range tt.want {
				if !r.Form.Has(k) {
					t.Errorf("got form %v, want %s", r.Form, k)
				}
			}
			for _, k := range tt.absent {
				if r.Form.Has(k) {
					t.Errorf("got %s=%q, want it absent", k, r.Form.Get(k))
				}
			}
			checks := map[string]string{
				"grant_type": "authorization_code", "code": "the-code", "client_id": testClientID,
			}
			if r.Form.Has("code_verifier") {
				checks["code_verifier"] = a.Verifier
			}
			if r.Form.Has("state") {
				checks["state"] = a.State
			}
			if r.Form.Has("redirect_uri") {
				checks["redirect_uri"] = testRedirect + tt.o.Name
			}
			for k, v := range checks {
				if got := r.Form.Get(k); got != v {
					t.Errorf("got %s=%q, want %q", k, got, v)
				}
			}
			ui := s.requests("/userinfo")
			if len(ui) != 1 {
				t.Fatalf("got %d userinfo requests, want 1", len(ui))
			}
			if got, want := ui[0].Header.Get("Authorization"), "Bearer kakao-test-access-token-0123456789"; got != want {
				t.Errorf("got userinfo Authorization %q, want %q", got, want)
			}
		})
	}
}

func TestRefreshRequestShape(t *testing.T) {
	s := newServer(t)
	s.handle("/token", reply(200, golden(t, "naver_refresh.json")))
	p := newProvider(t, Options{Name: "naver", Endpoints: s.endpoints()})
	if _, err := p.Refresh(context.Background(), "rt-1"); err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	r := s.requests("/token")[0]
	want := map[string]string{"grant_type": "refresh_token", "refresh_token": "rt-1", "client_id": testClientID, "client_secret": testSecret}
	for k, v := range want {
		if got := r.Form.Get(k); got != v {
			t.Errorf("got %s=%q, want %q", k, got, v)
		}
	}
}

// TestExchangeIdentity runs whole plain-OAuth exchanges, Hangul included.
func TestExchangeIdentity(t *testing.T) {
	tests := []struct {
		o        Options
		userinfo string
		want     Identity
	}{
		{Options{Name: "naver"}, "naver_profile_full.json", Identity{Provider: "naver",
			Subject: "32742776-Jf8sGsuF3gd5bRt0_t6JrXcl-QzwD7b1ZuiuAIkIpQ", Email: "gildong@naver.com",
			Name: "길동이", Picture: "https://ssl.pstatic.net/static/pwe/address/img_profile.png"}},
		{Options{Name: "naver", TrustEmail: true}, "naver_profile_full.json", Identity{Provider: "naver",
			Subject: "32742776-Jf8sGsuF3gd5bRt0_t6JrXcl-QzwD7b1ZuiuAIkIpQ", Email: "gildong@naver.com", EmailVerified: true,
			Name: "길동이", Picture: "https://ssl.pstatic.net/static/pwe/address/img_profile.png"}},
		{Options{Name: "naver", TrustEmail: true}, "naver_profile_id_only.json", Identity{Provider: "naver",
			Subject: "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdE"}},
		{Options{Name: "kakao"}, "kakao_user_id_2p53plus1.json", Identity{Provider: "kakao",
			Subject: "9007199254740993", Name: "프로도"}},
	}
	for _, tt := range tests {
		s := newServer(t)
		s.handle("/token", reply(200, golden(t, "kakao_token.json")))
		s.handle("/userinfo", reply(200, golden(t, tt.userinfo)))
		tt.o.Endpoints = s.endpoints()
		p := newProvider(t, tt.o)
		id, _, err := p.Exchange(context.Background(), "c", p.NewAuthRequest())
		if err != nil {
			t.Fatalf("%s: got error %v, want none", tt.userinfo, err)
		}
		if id != tt.want {
			t.Errorf("%s: got %+v,\nwant %+v", tt.userinfo, id, tt.want)
		}
		if got, want := id.User(), tt.want.Provider+":"+tt.want.Subject; got != want {
			t.Errorf("got User %q, want %q", got, want)
		}
	}
}

func TestUserinfoErrors(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		status   int
		body     []byte
		wantIn   string
	}{
		{"naver 024 with 401", "naver", 401, golden(t, "naver_profile_error_024.json"), "resultcode 024: Authentication failed"},
		{"naver 024 with 200", "naver", 200, golden(t, "naver_profile_error_024.json"), "024"},
		{"naver no id", "naver", 200, golden(t, "naver_profile_no_id.json"), "response.id"},
		{"kakao dead token", "kakao", 401, golden(t, "kakao_user_error_401.json"), "code -401"},
		{"kakao id overflow", "kakao", 200, golden(t, "kakao_user_id_overflow.json"), "int64"},
		{"html", "kakao", 200, golden(t, "html_502.html"), "bad profile json"},
		{"500", "naver", 500, []byte("oops"), "status 500"},
		{"bad subject", "naver", 200, []byte(`{"resultcode":"00","response":{"id":"a\nb"}}`), "subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			s.handle("/token", reply(200, golden(t, "kakao_token.json")))
			s.handle("/userinfo", reply(tt.status, tt.body))
			p := newProvider(t, Options{Name: tt.provider, Endpoints: s.endpoints()})
			_, _, err := p.Exchange(context.Background(), "c", p.NewAuthRequest())
			if !errors.Is(err, ErrProvider) {
				t.Fatalf("got error %v, want ErrProvider", err)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("got error %q, want it to mention %q", err, tt.wantIn)
			}
			if strings.Contains(err.Error(), "kakao-test-access-token") {
				t.Errorf("got error %q, which contains the access token", err)
			}
		})
	}
}

func TestExchangeRejectsBadCodeLocally(t *testing.T) {
	s := newServer(t)
	p := newProvider(t, Options{Name: "kakao", Endpoints: s.endpoints()})
	for _, code := range []string{"", strings.Repeat("x", maxCodeLen+1)} {
		_, _, err := p.Exchange(context.Background(), code, p.NewAuthRequest())
		if !errors.Is(err, ErrCodeRejected) {
			t.Errorf("code of %d bytes: got error %v, want ErrCodeRejected", len(code), err)
		}
	}
	if n := len(s.requests("/token")); n != 0 {
		t.Errorf("got %d token requests, want 0", n)
	}
}

func TestExchangeNeedsItsAuthRequest(t *testing.T) {
	s := newServer(t)
	tests := []struct {
		o Options
		a AuthRequest
	}{
		{Options{Name: "kakao"}, AuthRequest{State: "s"}},                            // no verifier
		{Options{Name: "google"}, AuthRequest{State: "s", Verifier: "v"}},            // no nonce
		{Options{Name: "kakao", OIDC: true}, AuthRequest{State: "s", Verifier: "v"}}, // no nonce
		{Options{Name: "naver"}, AuthRequest{}},                                      // no state
	}
	for _, tt := range tests {
		tt.o.Endpoints = s.endpoints()
		p := newProvider(t, tt.o)
		_, _, err := p.Exchange(context.Background(), "c", tt.a)
		if err == nil || errors.Is(err, ErrProvider) || errors.Is(err, ErrCodeRejected) {
			t.Errorf("%s %+v: got error %v, want a caller error", p.Name(), tt.a, err)
		}
	}
	if n := len(s.requests("/token")); n != 0 {
		t.Errorf("got %d token requests, want 0", n)
	}
}

// slow answers only when the client gives up (or after 10s, so a broken
// timeout fails the test instead of hanging it).
func slow(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
		w.Write([]byte(`{"access_token":"late","token_type":"bearer"}`))
	}
}

func TestTimeouts(t *testing.T) {
	tests := []struct {
		name string
		slow string // path that hangs
		call func(p *Provider) error
	}{
		{"token", "/token", func(p *Provider) error {
			_, _, err := p.Exchange(context.Background(), "c", p.NewAuthRequest())
			return err
		}},
		{"refresh", "/token", func(p *Provider) error {
			_, err := p.Refresh(context.Background(), "r")
			return err
		}},
		{"userinfo", "/userinfo", func(p *Provider) error {
			_, _, err := p.Exchange(context.Background(), "c", p.NewAuthRequest())
			return err
		}},
		{"revoke", "/revoke", func(p *Provider) error {
			return p.Revoke(context.Background(), Tokens{AccessToken: "a"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			s.handle("/token", reply(200, golden(t, "kakao_token.json")))
			s.handle("/userinfo", reply(200, golden(t, "kakao_user_full.json")))
			s.handle("/revoke", reply(200, []byte(`{"id":1}`)))
			s.handle(tt.slow, slow)
			// A client without its own timeout: Options.Timeout must still bound the call.
			p := newProvider(t, Options{Name: "kakao", Endpoints: s.endpoints(),
				HTTPClient: &http.Client{}, Timeout: 50 * time.Millisecond})
			start := time.Now()
			err := tt.call(p)
			if !errors.Is(err, ErrProvider) {
				t.Fatalf("got error %v, want ErrProvider", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v, want the 50ms timeout to end it", d)
			}
		})
	}
}

func TestCallerContextCancels(t *testing.T) {
	s := newServer(t)
	s.handle("/token", slow)
	p := newProvider(t, Options{Name: "naver", Endpoints: s.endpoints()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := p.Exchange(ctx, "c", p.NewAuthRequest())
	if !errors.Is(err, ErrProvider) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got error %v, want ErrProvider wrapping context.Canceled", err)
	}
}

func TestRevoke(t *testing.T) {
	toks := Tokens{AccessToken: "at-1", RefreshToken: "rt-1"}
	tests := []struct {
		name     string
		provider string
		tokens   Tokens
		status   int
		body     string
		wantErr  bool
		check    func(t *testing.T, r recorded)
	}{
		{"google revokes the refresh token", "google", toks, 200, "", false, func(t *testing.T, r recorded) {
			if got := r.Form.Get("token"); got != "rt-1" {
				t.Errorf("got token=%q, want rt-1", got)
			}
		}},
		{"google access token only", "google", Tokens{AccessToken: "at-1"}, 200, "", false, func(t *testing.T, r recorded) {
			if got := r.Form.Get("token"); got != "at-1" {
				t.Errorf("got token=%q, want at-1", got)
			}
		}},
		{"google already revoked", "google", toks, 400, `{"error":"invalid_token","error_description":"Token expired or revoked"}`, false, nil},
		{"google other 400", "google", toks, 400, `{"error":"invalid_request"}`, true, nil},
		{"naver", "naver", toks, 200, "", false, func(t *testing.T, r recorded) {
			want := map[string]string{"client_id": testClientID, "client_secret": testSecret, "token": "at-1", "token_type_hint": "access_token"}
			for k, v := range want {
				if got := r.Form.Get(k); got != v {
					t.Errorf("got %s=%q, want %q", k, got, v)
				}
			}
		}},
		{"naver 200 with error", "naver", toks, 200, `{"error":"invalid_request"}`, true, nil},
		{"naver 500", "naver", toks, 500, "", true, nil},
		{"kakao logout", "kakao", toks, 200, `{"id":3456789012}`, false, func(t *testing.T, r recorded) {
			if got := r.Header.Get("Authorization"); got != "Bearer at-1" {
				t.Errorf("got Authorization %q, want Bearer at-1", got)
			}
		}},
		{"kakao dead token", "kakao", toks, 401, `{"msg":"this access token does not exist","code":-401}`, false, nil},
		{"kakao 500", "kakao", toks, 500, `{"msg":"internal","code":-1}`, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			s.handle("/revoke", reply(tt.status, []byte(tt.body)))
			p := newProvider(t, Options{Name: tt.provider, Endpoints: s.endpoints()})
			err := p.Revoke(context.Background(), tt.tokens)
			if tt.wantErr {
				if !errors.Is(err, ErrProvider) {
					t.Fatalf("got error %v, want ErrProvider", err)
				}
				for _, secret := range []string{"at-1", "rt-1", testSecret} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("got error %q, which contains %q", err, secret)
					}
				}
			} else if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			reqs := s.requests("/revoke")
			if len(reqs) != 1 {
				t.Fatalf("got %d revoke requests, want 1", len(reqs))
			}
			if reqs[0].Method != http.MethodPost {
				t.Errorf("got method %s, want POST", reqs[0].Method)
			}
			if tt.check != nil {
				tt.check(t, reqs[0])
			}
		})
	}
}

func TestRevokeNoOps(t *testing.T) {
	s := newServer(t)
	ep := s.endpoints()
	p := newProvider(t, Options{Name: "kakao", Endpoints: ep})
	if err := p.Revoke(context.Background(), Tokens{}); err != nil {
		t.Errorf("empty tokens: got error %v, want none", err)
	}
	if n := len(s.requests("/revoke")); n != 0 {
		t.Errorf("empty tokens: got %d revoke requests, want 0", n)
	}
	// Overridden endpoints without RevokeURL must not send the token to the
	// real provider. Checked before calling Revoke, so that a regression
	// cannot reach out past loopback.
	for _, name := range []string{"google", "naver", "kakao"} {
		ep := ep
		ep.RevokeURL = ""
		p := newProvider(t, Options{Name: name, Endpoints: ep})
		if got := p.res.ep.RevokeURL; got != "" {
			t.Errorf("%s without revoke_url: got revoke URL %q, want none", name, got)
			continue
		}
		if err := p.Revoke(context.Background(), Tokens{AccessToken: "a", RefreshToken: "r"}); err != nil {
			t.Errorf("%s without revoke_url: got error %v, want a no-op", name, err)
		}
	}
	// Untouched endpoints keep the real revocation URL.
	if got, want := newProvider(t, Options{Name: "naver"}).res.ep.RevokeURL, "https://nid.naver.com/oauth2.0/revoke"; got != want {
		t.Errorf("naver defaults: got revoke URL %q, want %q", got, want)
	}
}
