package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socialgate/socialgate/config"
	"github.com/socialgate/socialgate/session"
)

// TestCheckConfigProviderKinds: check-config refuses what providers
// refuses, each problem on its key's line, and what it accepts starts a
// server: one set of rules, in providers.
func TestCheckConfigProviderKinds(t *testing.T) {
	t.Setenv("TEST_SECRET", strings.Repeat("z", 40))
	for _, tc := range []struct {
		name, providers string
		want            string // "" = accepted
	}{
		{"two google instances, oidc and github", `  google: { client_id: g, client_secret: s }
  google-work: { kind: google, display_name: "회사 Google", client_id: w, client_secret: s }
  corp:
    kind: oidc
    issuer: "https://sso.example.com/realms/main"
    client_id: c
    client_secret: s
    claims: { subject: oid, name: preferred_username }
  github: { client_id: gh, client_secret: s }
  gitlab: { client_id: gl, client_secret: s, endpoints: { auth_url: "https://git.example.com/oauth/authorize", token_url: "https://git.example.com/oauth/token", userinfo_url: "https://git.example.com/api/v4/user" } }
`, ""},
		{"unknown kind", `  corp:
    kind: oidcc
    client_id: c
`, `:7: providers.corp.kind: unknown provider kind "oidcc" (did you mean "oidc"?); known kinds: google, naver, kakao,`},
		{"oidc without issuer", `  corp:
    kind: oidc
    client_id: c
    client_secret: s
`, `:6: providers.corp.issuer: is required for kind oidc`},
		{"claims on google", `  google:
    client_id: g
    client_secret: s
    claims: { name: nickname }
`, `:9: providers.google.claims: only applies to kind oidc`},
		{"github takes no issuer", `  github:
    client_id: g
    client_secret: s
    endpoints: { issuer: "https://github.com" }
`, `:9: providers.github.endpoints.issuer: github takes only auth_url, token_url and userinfo_url`},
		{"line takes no custom urls", `  line:
    client_id: l
    client_secret: s
    endpoints: { token_url: "https://api.line.me/oauth2/v2.1/token" }
`, `:9: providers.line.endpoints.token_url: goth's line provider takes no custom URLs`},
		{"github has no logout", `  github:
    client_id: g
    client_secret: s
    logout: true
`, `:9: providers.github.logout: github has no logout`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := `server:
  public_url: "http://127.0.0.1:4180"
cookie:
  secret: "${TEST_SECRET}"
providers:
` + tc.providers + `upstreams:
  - name: app
    url: "http://127.0.0.1:9"
`
			path := filepath.Join(t.TempDir(), "sg.yaml")
			if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			code := run(context.Background(), []string{"check-config", "--config", path}, &out, io.Discard)
			if tc.want != "" {
				if code == 0 || !strings.Contains(out.String(), path+tc.want) {
					t.Fatalf("check-config exit %d, want the line %q in:\n%s", code, path+tc.want, out.String())
				}
				return
			}
			if code != 0 {
				t.Fatalf("check-config exit %d:\n%s", code, out.String())
			}
			c, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			mgr, err := session.NewManager(session.ManagerOptions{Store: session.NewMemory(session.MemoryOptions{})})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := newServer(c, mgr, slog.New(slog.DiscardHandler), nil); err != nil {
				t.Errorf("check-config accepted it, serve refuses it: %v", err)
			}
		})
	}
}
