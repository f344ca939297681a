package providers

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	googleSub   = "110169484474386276334"
	accessToken = "at-oidc-0123456789"
)

// oidcFixture is a scripted OpenID Connect provider plus a Provider using it.
type oidcFixture struct {
	s     *server
	p     *Provider
	clock *fixedClock
}

func newOIDCFixture(t *testing.T, o Options, edit func(*Endpoints)) *oidcFixture {
	t.Helper()
	s := newServer(t)
	s.handle("/jwks", jwks("k1"))
	ep := s.endpoints()
	if edit != nil {
		edit(&ep)
	}
	o.Endpoints = ep
	clock := &fixedClock{t: epoch}
	o.Now = clock.Now
	return &oidcFixture{s: s, p: newProvider(t, o), clock: clock}
}

// claims are a valid Google id_token's claims for a.
func (f *oidcFixture) claims(a AuthRequest) map[string]any {
	return map[string]any{
		"iss": f.s.URL, "aud": testClientID, "azp": testClientID, "sub": googleSub,
		"nonce": a.Nonce, "iat": epoch.Unix(), "exp": epoch.Add(time.Hour).Unix(),
		"at_hash": atHash(accessToken), "email": "gildong.hong@gmail.com", "email_verified": true,
		"name": "홍길동", "picture": "https://lh3.googleusercontent.com/a/x",
	}
}

// exchange serves idToken from the token endpoint and runs Exchange.
func (f *oidcFixture) exchange(t *testing.T, a AuthRequest, idToken string) (Identity, Tokens, error) {
	t.Helper()
	reply := map[string]any{"access_token": accessToken, "token_type": "Bearer", "expires_in": 3599, "scope": "openid email profile"}
	if idToken != "" {
		reply["id_token"] = idToken
	}
	f.s.handle("/token", replyJSON(200, reply))
	return f.p.Exchange(context.Background(), "code-1", a)
}

func TestIDTokenVerification(t *testing.T) {
	want := Identity{Provider: "google", Subject: googleSub, Email: "gildong.hong@gmail.com",
		EmailVerified: true, Name: "홍길동", Picture: "https://lh3.googleusercontent.com/a/x"}
	tests := []struct {
		name   string
		edit   func(c map[string]any, f *oidcFixture)
		sign   func(t *testing.T, c map[string]any) string // nil: testKey, kid k1
		wantIn string                                      // "" means success
	}{
		{name: "valid"},
		{name: "email_verified as string", edit: func(c map[string]any, _ *oidcFixture) { c["email_verified"] = "true" }},
		{name: "no at_hash", edit: func(c map[string]any, _ *oidcFixture) { delete(c, "at_hash") }},
		{name: "several audiences with azp", edit: func(c map[string]any, _ *oidcFixture) {
			c["aud"] = []string{testClientID, "other"}
		}},
		{name: "wrong nonce", edit: func(c map[string]any, _ *oidcFixture) { c["nonce"] = "not-the-nonce" }, wantIn: "nonce"},
		{name: "no nonce", edit: func(c map[string]any, _ *oidcFixture) { delete(c, "nonce") }, wantIn: "nonce"},
		{name: "wrong audience", edit: func(c map[string]any, _ *oidcFixture) { c["aud"] = "someone-else"; delete(c, "azp") }, wantIn: "audience"},
		{name: "wrong issuer", edit: func(c map[string]any, _ *oidcFixture) { c["iss"] = "https://evil.example" }, wantIn: "issued by"},
		{name: "schemeless issuer only for real google", edit: func(c map[string]any, _ *oidcFixture) {
			c["iss"] = strings.TrimPrefix(c["iss"].(string), "http://")
		}, wantIn: "issued by"},
		{name: "expired", edit: func(c map[string]any, f *oidcFixture) {
			c["exp"] = epoch.Add(-time.Second).Unix()
		}, wantIn: "expired"},
		{name: "not yet valid", edit: func(c map[string]any, _ *oidcFixture) {
			c["nbf"] = epoch.Add(time.Hour).Unix()
		}, wantIn: "id_token"},
		{name: "bad signature", sign: func(t *testing.T, c map[string]any) string {
			return signIDToken(t, otherKey(), "k1", c)
		}, wantIn: "signature"},
		{name: "unknown key", sign: func(t *testing.T, c map[string]any) string {
			return signIDToken(t, otherKey(), "k2", c)
		}, wantIn: "id_token"},
		{name: "alg none", sign: func(t *testing.T, c map[string]any) string {
			h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`))
			p := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"1"}`))
			return h + "." + p + "."
		}, wantIn: "id_token"},
		{name: "garbage", sign: func(*testing.T, map[string]any) string { return "a.b.c" }, wantIn: "id_token"},
		{name: "at_hash mismatch", edit: func(c map[string]any, _ *oidcFixture) { c["at_hash"] = atHash("other") }, wantIn: "at_hash"},
		{name: "azp not us", edit: func(c map[string]any, _ *oidcFixture) { c["azp"] = "other" }, wantIn: "azp"},
		{name: "several audiences without azp", edit: func(c map[string]any, _ *oidcFixture) {
			c["aud"] = []string{testClientID, "other"}
			delete(c, "azp")
		}, wantIn: "azp"},
		{name: "no sub", edit: func(c map[string]any, _ *oidcFixture) { delete(c, "sub") }, wantIn: "sub"},
		{name: "bad email_verified", edit: func(c map[string]any, _ *oidcFixture) { c["email_verified"] = 7 }, wantIn: "email_verified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newOIDCFixture(t, Options{Name: "google"}, nil)
			a := f.p.NewAuthRequest()
			c := f.claims(a)
			if tt.edit != nil {
				tt.edit(c, f)
			}
			var raw string
			if tt.sign != nil {
				raw = tt.sign(t, c)
			} else {
				raw = signIDToken(t, testKey(), "k1", c)
			}
			id, tok, err := f.exchange(t, a, raw)
			if tt.wantIn == "" {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				if id != want {
					t.Errorf("got %+v,\nwant %+v", id, want)
				}
				if tok.IDToken != raw {
					t.Errorf("got IDToken %q, want the verified one", tok.IDToken)
				}
				if n := len(f.s.requests("/userinfo")); n != 0 {
					t.Errorf("got %d userinfo requests, want 0 (id_token had everything)", n)
				}
				return
			}
			if !errors.Is(err, ErrProvider) {
				t.Fatalf("got error %v, want ErrProvider", err)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("got error %q, want it to mention %q", err, tt.wantIn)
			}
			for _, secret := range []string{raw, accessToken, a.Nonce, "code-1"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("got error %q, which contains a secret", err)
				}
			}
		})
	}
}

func TestIDTokenMissing(t *testing.T) {
	f := newOIDCFixture(t, Options{Name: "google"}, nil)
	_, _, err := f.exchange(t, f.p.NewAuthRequest(), "")
	if !errors.Is(err, ErrProvider) {
		t.Fatalf("got error %v, want ErrProvider", err)
	}
}

// TestGoogleLegacyIssuer: the real Google issuer also accepts old tokens'
// "accounts.google.com".
func TestGoogleLegacyIssuer(t *testing.T) {
	for _, iss := range []string{"https://accounts.google.com", "accounts.google.com"} {
		f := newOIDCFixture(t, Options{Name: "google"}, func(e *Endpoints) { e.Issuer = "https://accounts.google.com" })
		a := f.p.NewAuthRequest()
		c := f.claims(a)
		c["iss"] = iss
		id, _, err := f.exchange(t, a, signIDToken(t, testKey(), "k1", c))
		if err != nil {
			t.Fatalf("iss %q: got error %v, want none", iss, err)
		}
		if id.Subject != googleSub {
			t.Errorf("iss %q: got subject %q, want %q", iss, id.Subject, googleSub)
		}
	}
}

func TestGoogleUserinfoFallback(t *testing.T) {
	tests := []struct {
		name     string
		drop     []string
		userinfo http.HandlerFunc
		want     Identity
		wantErr  bool
	}{
		{"no email, no name", []string{"email", "email_verified", "name", "picture"},
			reply(200, golden(t, "google_userinfo.json")),
			Identity{Provider: "google", Subject: googleSub, Email: "gildong.hong@gmail.com", EmailVerified: true,
				Name: "홍길동", Picture: "https://lh3.googleusercontent.com/a/ACg8ocJ=s96-c"}, false},
		{"no name", []string{"name"},
			reply(200, golden(t, "google_userinfo.json")),
			Identity{Provider: "google", Subject: googleSub, Email: "gildong.hong@gmail.com", EmailVerified: true,
				Name: "홍길동", Picture: "https://lh3.googleusercontent.com/a/x"}, false},
		{"userinfo for someone else", []string{"email"},
			replyJSON(200, map[string]any{"sub": "999", "email": "evil@example.com", "email_verified": true}),
			Identity{}, true},
		{"userinfo down", []string{"email"}, reply(503, nil), Identity{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newOIDCFixture(t, Options{Name: "google"}, nil)
			f.s.handle("/userinfo", tt.userinfo)
			a := f.p.NewAuthRequest()
			c := f.claims(a)
			for _, k := range tt.drop {
				delete(c, k)
			}
			id, _, err := f.exchange(t, a, signIDToken(t, testKey(), "k1", c))
			if tt.wantErr {
				if !errors.Is(err, ErrProvider) {
					t.Fatalf("got error %v, want ErrProvider", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if id != tt.want {
				t.Errorf("got %+v,\nwant %+v", id, tt.want)
			}
			reqs := f.s.requests("/userinfo")
			if len(reqs) != 1 || reqs[0].Header.Get("Authorization") != "Bearer "+accessToken {
				t.Errorf("got userinfo requests %+v, want one with the access token", reqs)
			}
		})
	}
}

func TestKakaoOIDC(t *testing.T) {
	base := func(a AuthRequest, iss string) map[string]any {
		return map[string]any{
			"iss": iss, "aud": testClientID, "sub": "3456789012", "nonce": a.Nonce,
			"iat": epoch.Unix(), "exp": epoch.Add(time.Hour).Unix(), "auth_time": epoch.Unix(),
			"nickname": "라이언", "picture": "http://k.kakaocdn.net/dn/abc/img_110x110.jpg", "email": "ryan@kakao.com",
		}
	}
	tests := []struct {
		name         string
		defaultIss   bool // real issuer, local JWKS
		edit         func(map[string]any)
		userinfo     http.HandlerFunc
		want         Identity
		wantUserinfo int
		wantErr      bool
	}{
		{name: "email verified by user/me", userinfo: reply(200, golden(t, "kakao_user_full.json")), wantUserinfo: 1,
			want: Identity{Provider: "kakao", Subject: "3456789012", Email: "ryan@kakao.com", EmailVerified: true,
				Name: "라이언", Picture: "http://k.kakaocdn.net/dn/abc/img_110x110.jpg"}},
		{name: "real issuer", defaultIss: true, userinfo: reply(200, golden(t, "kakao_user_full.json")), wantUserinfo: 1,
			want: Identity{Provider: "kakao", Subject: "3456789012", Email: "ryan@kakao.com", EmailVerified: true,
				Name: "라이언", Picture: "http://k.kakaocdn.net/dn/abc/img_110x110.jpg"}},
		{name: "no email: no user/me", edit: func(c map[string]any) { delete(c, "email") },
			want: Identity{Provider: "kakao", Subject: "3456789012", Name: "라이언",
				Picture: "http://k.kakaocdn.net/dn/abc/img_110x110.jpg"}},
		{name: "no nickname: name from user/me properties", edit: func(c map[string]any) {
			delete(c, "email")
			delete(c, "nickname")
			delete(c, "picture")
			c["sub"] = "1234567890"
		}, userinfo: reply(200, golden(t, "kakao_user_no_account.json")), wantUserinfo: 1,
			want: Identity{Provider: "kakao", Subject: "1234567890", Name: "어피치",
				Picture: "http://k.kakaocdn.net/dn/apeach/img_640x640.jpg"}},
		{name: "user/me has another address", edit: func(c map[string]any) { c["email"] = "old@kakao.com" },
			userinfo: reply(200, golden(t, "kakao_user_full.json")), wantUserinfo: 1,
			want: Identity{Provider: "kakao", Subject: "3456789012", Email: "old@kakao.com", EmailVerified: false,
				Name: "라이언", Picture: "http://k.kakaocdn.net/dn/abc/img_110x110.jpg"}},
		{name: "user/me is someone else", userinfo: reply(200, golden(t, "kakao_user_no_account.json")),
			wantUserinfo: 1, wantErr: true},
		{name: "user/me fails", userinfo: reply(401, golden(t, "kakao_user_error_401.json")),
			wantUserinfo: 1, wantErr: true},
		{name: "email_verified claim ignored", edit: func(c map[string]any) { c["email_verified"] = true },
			userinfo: replyJSON(200, map[string]any{"id": 3456789012, "kakao_account": map[string]any{
				"email": "ryan@kakao.com", "is_email_valid": true, "is_email_verified": false}}),
			wantUserinfo: 1,
			want: Identity{Provider: "kakao", Subject: "3456789012", Email: "ryan@kakao.com", EmailVerified: false,
				Name: "라이언", Picture: "http://k.kakaocdn.net/dn/abc/img_110x110.jpg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newOIDCFixture(t, Options{Name: "kakao", OIDC: true}, func(e *Endpoints) {
				if tt.defaultIss {
					e.Issuer = ""
				}
			})
			if tt.userinfo != nil {
				f.s.handle("/userinfo", tt.userinfo)
			}
			a := f.p.NewAuthRequest()
			iss := f.s.URL
			if tt.defaultIss {
				iss = "https://kauth.kakao.com"
			}
			c := base(a, iss)
			if tt.edit != nil {
				tt.edit(c)
			}
			id, _, err := f.exchange(t, a, signIDToken(t, testKey(), "k1", c))
			if n := len(f.s.requests("/userinfo")); n != tt.wantUserinfo {
				t.Errorf("got %d user/me requests, want %d", n, tt.wantUserinfo)
			}
			if tt.wantErr {
				if !errors.Is(err, ErrProvider) {
					t.Fatalf("got error %v, want ErrProvider", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if id != tt.want {
				t.Errorf("got %+v,\nwant %+v", id, tt.want)
			}
		})
	}
}
