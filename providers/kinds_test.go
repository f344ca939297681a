package providers

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"google": true, "google-work": true, "corp_sso": true, "0auth": true, "a": true,
		"": false, "-x": false, "_x": false, "Google": false, "a:b": false, "a b": false,
		"한국": false, "a/b": false, "a.b": false, strings.Repeat("a", 64): true, strings.Repeat("a", 65): false,
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestKinds(t *testing.T) {
	ks := Kinds()
	if !slices.Equal(ks[:3], []string{"google", "naver", "kakao"}) || !slices.Contains(ks, "oidc") {
		t.Errorf("Kinds() = %v", ks)
	}
	for _, k := range ks {
		if !IsKind(k) || KindDisplayName(k) == "" {
			t.Errorf("kind %q: IsKind %v, display %q", k, IsKind(k), KindDisplayName(k))
		}
	}
	for _, tc := range []struct{ id, kind, want string }{
		{"google", "", "google"}, {"work", "google", "google"}, {"corp", "oidc", "oidc"}, {"corp", "", ""}, {"x", "nope", ""},
	} {
		got, err := kindOf(tc.id, tc.kind)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("kindOf(%q, %q) = %q, %v; want %q", tc.id, tc.kind, got, err, tc.want)
		}
	}
}

// TestNewInstances: the id names the instance, the kind picks the rules.
func TestNewInstances(t *testing.T) {
	base := Options{ClientID: "id", ClientSecret: "s", RedirectURL: "https://gate.example.com/oauth2/callback/x"}
	tests := []struct {
		name    string
		edit    func(*Options)
		wantErr string
	}{
		{"instance of google", func(o *Options) { o.Name, o.Kind = "google-work", "google" }, ""},
		{"own id without kind", func(o *Options) { o.Name = "corp" }, "unknown provider"},
		{"bad id", func(o *Options) { o.Name, o.Kind = "Corp", "google" }, "must match"},
		{"oidc needs an issuer", func(o *Options) { o.Name, o.Kind = "corp", "oidc" }, "issuer"},
		{"oidc with issuer", func(o *Options) {
			o.Name, o.Kind, o.Endpoints.Issuer = "corp", "oidc", "https://sso.example.com/realms/main"
		}, ""},
		{"claims are oidc only", func(o *Options) { o.Name, o.Claims = "google", Claims{Name: "nickname"} }, "claims"},
		{"kakao with another issuer needs every endpoint", func(o *Options) {
			o.Name, o.OIDC, o.Endpoints = "kakao", true, Endpoints{Issuer: "https://kauth.example.com", AuthURL: "https://kauth.example.com/a",
				TokenURL: "https://kauth.example.com/t", JWKSURL: "https://kauth.example.com/j"}
		}, "endpoints.userinfo_url"},
		{"kakao with its own issuer", func(o *Options) {
			o.Name, o.OIDC, o.Endpoints = "kakao", true, Endpoints{Issuer: "https://kauth.kakao.com"}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.edit(&o)
			p, err := New(o)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if p.Name() != o.Name {
					t.Errorf("Name() = %q, want %q", p.Name(), o.Name)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.wantErr)
			}
		})
	}
	p, err := New(Options{Name: "google-work", Kind: "google", DisplayName: "회사 Google", ClientID: "id", ClientSecret: "s",
		RedirectURL: base.RedirectURL})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "google-work" || p.Kind() != "google" || p.DisplayName() != "회사 Google" {
		t.Errorf("got %q %q %q", p.Name(), p.Kind(), p.DisplayName())
	}
}

func TestMapClaims(t *testing.T) {
	c := Claims{}.withDefaults()
	tests := []struct {
		name, body string
		want       Identity
		sub        string
		bad        bool
	}{
		{"standard", `{"sub":"u1","email":"a@b.c","email_verified":true,"name":"홍길동","picture":"https://p"}`,
			Identity{Subject: "u1", Email: "a@b.c", EmailVerified: true, Name: "홍길동", Picture: "https://p"}, "u1", false},
		{"string true", `{"sub":"u1","email":"a@b.c","email_verified":"true"}`, Identity{Subject: "u1", Email: "a@b.c", EmailVerified: true}, "u1", false},
		{"string false", `{"sub":"u1","email":"a@b.c","email_verified":"false"}`, Identity{Subject: "u1", Email: "a@b.c"}, "u1", false},
		{"null fields", `{"sub":"u1","email":null,"name":null,"email_verified":null}`, Identity{Subject: "u1"}, "u1", false},
		{"numeric sub kept exact", `{"sub":9007199254740993}`, Identity{Subject: "9007199254740993"}, "9007199254740993", false},
		{"odd string", `{"sub":"u1","email_verified":"yes"}`, Identity{}, "", true},
		{"object sub", `{"sub":{"a":1}}`, Identity{}, "", true},
		{"not an object", `[1,2]`, Identity{}, "", true},
		{"null", `null`, Identity{}, "", true},
	}
	for _, tt := range tests {
		id, sub, err := c.mapClaims([]byte(tt.body))
		if (err != nil) != tt.bad || id != tt.want || sub != tt.sub {
			t.Errorf("%s: got %+v %q %v", tt.name, id, sub, err)
		}
	}
}

func FuzzMapClaims(f *testing.F) {
	for _, s := range []string{`{"sub":"u1","email":"a@b.c","email_verified":"true","name":"홍"}`, `{"sub":1e400}`, `{}`, `[]`, `{"sub":"\u0000"}`} {
		f.Add(s, "sub", "name")
	}
	f.Fuzz(func(t *testing.T, body, subject, name string) {
		c := Claims{Subject: subject, Name: name}.withDefaults()
		id, sub, err := c.mapClaims([]byte(body))
		if err != nil {
			return
		}
		// Whatever was read was in the input.
		if !json.Valid([]byte(body)) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		_ = id
		_ = sub
	})
}

func TestPickAuth(t *testing.T) {
	for _, tc := range []struct {
		adv          []string
		prefer, want string
	}{
		{nil, authPost, authBasic},
		{[]string{"client_secret_post", "client_secret_basic"}, authPost, authPost},
		{[]string{"client_secret_post", "client_secret_basic"}, authBasic, authBasic},
		{[]string{"client_secret_post"}, authBasic, authPost},
		{[]string{"private_key_jwt"}, authBasic, ""},
	} {
		if got := pickAuth(tc.adv, tc.prefer); got != tc.want {
			t.Errorf("pickAuth(%v, %s) = %q, want %q", tc.adv, tc.prefer, got, tc.want)
		}
	}
}

// TestRefusesWebviews: Google refuses OAuth in webviews, whether configured
// as its own kind or as an OpenID Connect instance of Google's issuer; the
// other kinds and issuers do not.
func TestRefusesWebviews(t *testing.T) {
	for _, tc := range []struct {
		name, kind, issuer string
		want               bool
	}{
		{"google", "google", "", true},
		{"google-work", "google", "", true},
		{"corp-google", "oidc", "https://accounts.google.com", true},
		{"corp", "oidc", "https://sso.example.com/realms/main", false},
		{"kakao", "kakao", "", false},
		{"naver", "naver", "", false},
		{"github", "github", "", false},
	} {
		p, err := New(Options{Name: tc.name, Kind: tc.kind, ClientID: "id", ClientSecret: "secret",
			RedirectURL: "https://gate.example.com/oauth2/callback/" + tc.name,
			Endpoints:   Endpoints{Issuer: tc.issuer}})
		if err != nil {
			t.Fatalf("%s: New: %v", tc.name, err)
		}
		if got := p.RefusesWebviews(); got != tc.want {
			t.Errorf("%s (kind %s, issuer %q): RefusesWebviews = %t, want %t", tc.name, tc.kind, tc.issuer, got, tc.want)
		}
	}
}
