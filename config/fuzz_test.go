package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no file, however broken, panics the loader, and
// that every failure is a Problems whose lines can be shown to a person.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("..", "config.example.yaml")); err == nil {
		f.Add(data)
	}
	seeds := []string{
		doc(""),
		"",
		"- a\n",
		"server: &s\n  <<: *s\n",
		"log:\n  <<: [*a, *b]\n",
		"upstreams: [{name: a, url: 'http://127.0.0.1:1', allow: {users: ['kakao:1']}}]\n",
		"cookie:\n  secret: ${X}$${Y}${\n",
		"providers:\n  kakao: ~\n  naver: {client_id: n, client_secret_file: /dev/null}\n",
		"server:\n  public_url: 'https://[::1]:99999/#'\n  trusted_proxies: ['::/0', 1.2.3.4/33]\n",
		"? [a]\n: b\n",
		"a: !!binary 3q2+7w==\n",
		"\xef\xbb\xbfserver: {}\n---\n...\n",
		"redirects:\n  allowed_hosts: ['.한국.example', '[::1]', '[]:1', '.']\n",
		"providers:\n  corp: {kind: oidc, issuer: 'https://a', endpoints: {issuer: 'https://b'}, claims: {subject: oid}}\n  g-2: {kind: github, logout: true}\n  A: {kind: x}\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	lookup := env(map[string]string{"X": "x", "SOCIALGATE_COOKIE_SECRET": secret32})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data, lookup)
		if err == nil {
			if c == nil {
				t.Fatal("Parse: got nil Config and nil error")
			}
			return
		}
		var ps Problems
		if !errors.As(err, &ps) {
			t.Fatalf("Parse error: got %T (%v), want Problems", err, err)
		}
		if len(ps) == 0 {
			t.Fatal("Parse: got an empty Problems")
		}
		for _, p := range ps {
			if p.Line < 1 || p.File != "fuzz.yaml" || p.Msg == "" {
				t.Errorf("problem %+v: want File fuzz.yaml, Line >= 1 and a message", p)
			}
		}
	})
}
