package providers

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestNewValidates(t *testing.T) {
	ok := Options{Name: "google", ClientID: "id", ClientSecret: "sekrit-value-42", RedirectURL: "https://gate.example.com/oauth2/callback/google"}
	tests := []struct {
		name    string
		edit    func(*Options)
		wantErr string // substring; "" means success
	}{
		{"ok", func(*Options) {}, ""},
		{"unknown provider", func(o *Options) { o.Name = "myspace" }, "unknown provider"},
		{"empty name", func(o *Options) { o.Name = "" }, "unknown provider"},
		{"no client id", func(o *Options) { o.ClientID = "" }, "client_id"},
		{"google needs a secret", func(o *Options) { o.ClientSecret = "" }, "client_secret"},
		{"naver needs a secret", func(o *Options) { o.Name, o.ClientSecret = "naver", "" }, "client_secret"},
		{"kakao secret optional", func(o *Options) { o.Name, o.ClientSecret = "kakao", "" }, ""},
		{"relative redirect", func(o *Options) { o.RedirectURL = "/oauth2/callback/google" }, "redirect_url"},
		{"no redirect", func(o *Options) { o.RedirectURL = "" }, "redirect_url"},
		{"javascript redirect", func(o *Options) { o.RedirectURL = "javascript://x/%0aalert(1)" }, "redirect_url"},
		{"bad endpoint", func(o *Options) { o.Endpoints.TokenURL = "ftp://127.0.0.1/token" }, "endpoints.token_url"},
		{"naver takes no scopes", func(o *Options) { o.Name, o.Scopes = "naver", []string{"email"} }, "scopes"},
		{"trust_email is naver only", func(o *Options) { o.TrustEmail = true }, "trust_email"},
		{"naver trust_email", func(o *Options) { o.Name, o.TrustEmail = "naver", true }, ""},
		{"naver has no oidc", func(o *Options) { o.Name, o.OIDC = "naver", true }, "oidc"},
		{"kakao oidc", func(o *Options) { o.Name, o.OIDC = "kakao", true }, ""},
		{"negative timeout", func(o *Options) { o.Timeout = -time.Second }, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			p, err := New(o)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				if p.Name() != o.Name {
					t.Errorf("got Name %q, want %q", p.Name(), o.Name)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one mentioning %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), o.ClientSecret) && o.ClientSecret != "" {
				t.Errorf("error %q contains the client secret", err)
			}
		})
	}
}

func TestProviderTraits(t *testing.T) {
	tests := []struct {
		o                 Options
		display           string
		pkce, oidc        bool
		nonce, verifier   bool
		defaultAuthPrefix string
	}{
		{Options{Name: "google"}, "Google", true, true, true, true, "https://accounts.google.com/o/oauth2/v2/auth?"},
		{Options{Name: "naver"}, "Naver", false, false, false, false, "https://nid.naver.com/oauth2.0/authorize?"},
		{Options{Name: "kakao"}, "Kakao", true, false, false, true, "https://kauth.kakao.com/oauth/authorize?"},
		{Options{Name: "kakao", OIDC: true}, "Kakao", true, true, true, true, "https://kauth.kakao.com/oauth/authorize?"},
	}
	for _, tt := range tests {
		p := newProvider(t, tt.o)
		name := p.Name()
		if got := p.DisplayName(); got != tt.display {
			t.Errorf("%s: got DisplayName %q, want %q", name, got, tt.display)
		}
		if got := p.supportsPKCE(); got != tt.pkce {
			t.Errorf("%s: got supportsPKCE %v, want %v", name, got, tt.pkce)
		}
		if got := p.IsOIDC(); got != tt.oidc {
			t.Errorf("%s: got IsOIDC %v, want %v", name, got, tt.oidc)
		}
		a, b := p.NewAuthRequest(), p.NewAuthRequest()
		if len(a.State) < 43 || a.State == b.State {
			t.Errorf("%s: got states %q and %q, want two distinct 256-bit values", name, a.State, b.State)
		}
		if got := a.Nonce != ""; got != tt.nonce {
			t.Errorf("%s: got nonce %q, want one: %v", name, a.Nonce, tt.nonce)
		}
		if tt.nonce && a.Nonce == b.Nonce {
			t.Errorf("%s: got the same nonce twice", name)
		}
		if got := a.Verifier != ""; got != tt.verifier {
			t.Errorf("%s: got verifier %q, want one: %v", name, a.Verifier, tt.verifier)
		}
		if got := authURL(p, a); !strings.HasPrefix(got, tt.defaultAuthPrefix) {
			t.Errorf("%s: got AuthURL %q, want prefix %q", name, got, tt.defaultAuthPrefix)
		}
	}
}

func TestAuthURLParams(t *testing.T) {
	a := AuthRequest{State: "st", Nonce: "nn", Verifier: oauth2.GenerateVerifier()}
	challenge := oauth2.S256ChallengeFromVerifier(a.Verifier)
	tests := []struct {
		o      Options
		a      AuthRequest
		want   map[string]string // "" value: must be absent
		absent []string
	}{
		{Options{Name: "google"}, a, map[string]string{
			"response_type": "code", "client_id": testClientID, "redirect_uri": testRedirect + "google",
			"state": "st", "nonce": "nn", "scope": "openid email profile", "access_type": "offline",
			"code_challenge": challenge, "code_challenge_method": "S256",
		}, []string{"prompt", "login_hint", "client_secret"}},
		{Options{Name: "google", Scopes: []string{"email"}}, withPrompt(a, "consent", "me@example.com"), map[string]string{
			"scope": "openid email", "prompt": "consent", "login_hint": "me@example.com",
		}, nil},
		{Options{Name: "naver"}, withPrompt(a, "consent", "x"), map[string]string{
			"response_type": "code", "client_id": testClientID, "state": "st", "auth_type": "reprompt",
		}, []string{"scope", "nonce", "code_challenge", "code_challenge_method", "prompt", "login_hint", "client_secret"}},
		{Options{Name: "naver"}, withPrompt(a, "select_account", ""), nil, []string{"auth_type", "prompt"}},
		{Options{Name: "kakao"}, a, map[string]string{
			"response_type": "code", "client_id": testClientID, "state": "st",
			"code_challenge": challenge, "code_challenge_method": "S256",
		}, []string{"scope", "nonce", "access_type", "client_secret"}},
		{Options{Name: "kakao", OIDC: true}, withPrompt(a, "login", "ryan@kakao.com"), map[string]string{
			"scope": "openid", "nonce": "nn", "prompt": "login", "login_hint": "ryan@kakao.com",
		}, nil},
		{Options{Name: "kakao", OIDC: true, Scopes: []string{"profile_nickname", "account_email"}}, a, map[string]string{
			"scope": "openid profile_nickname account_email",
		}, nil},
	}
	for _, tt := range tests {
		p := newProvider(t, tt.o)
		raw := authURL(p, tt.a)
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("%s: AuthURL %q: %v", p.Name(), raw, err)
		}
		q := u.Query()
		for k, v := range tt.want {
			if got := q.Get(k); got != v {
				t.Errorf("%s: got %s=%q, want %q (url %s)", p.Name(), k, got, v, raw)
			}
		}
		for _, k := range tt.absent {
			if q.Has(k) {
				t.Errorf("%s: got %s=%q, want it absent", p.Name(), k, q.Get(k))
			}
		}
	}
}

func withPrompt(a AuthRequest, prompt, hint string) AuthRequest {
	a.Prompt, a.LoginHint = prompt, hint
	return a
}

func TestAuthURLHonoursEndpoint(t *testing.T) {
	p := newProvider(t, Options{Name: "kakao", Endpoints: Endpoints{AuthURL: "http://127.0.0.1:9/oauth/authorize"}})
	if got := authURL(p, p.NewAuthRequest()); !strings.HasPrefix(got, "http://127.0.0.1:9/oauth/authorize?") {
		t.Errorf("got %q, want the overridden authorize URL", got)
	}
}

func TestNewDoesNoNetworkIO(t *testing.T) {
	s := newServer(t)
	newProvider(t, Options{Name: "google", Endpoints: Endpoints{Issuer: s.URL}})
	newProvider(t, Options{Name: "google", Endpoints: s.endpoints()})
	newProvider(t, Options{Name: "kakao", OIDC: true, Endpoints: s.endpoints()})
	for _, path := range []string{"/.well-known/openid-configuration", "/jwks"} {
		if n := len(s.requests(path)); n != 0 {
			t.Errorf("got %d requests to %s during New, want 0", n, path)
		}
	}
}
