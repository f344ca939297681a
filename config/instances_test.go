package config

import (
	"slices"
	"testing"
)

// TestProviderInstances: an id of one's own with a kind, two instances of
// one kind side by side, and today's kind-named ids unchanged.
func TestProviderInstances(t *testing.T) {
	c := mustParse(t, "providers:\n"+
		"  google: {client_id: g, client_secret: s}\n"+
		"  google-work:\n    kind: google\n    display_name: 회사 Google\n    client_id: w\n    client_secret: s\n"+
		"  kakao_biz: {kind: kakao, client_id: k}\n"+
		"upstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    allow:\n"+
		"      providers: [google-work]\n      users: ['kakao_biz:42', 'google:1']\n")
	type row struct{ id, kind, display string }
	var got []row
	for _, p := range c.Providers {
		got = append(got, row{p.Name, p.Kind, p.DisplayName})
	}
	want := []row{{"google", "google", ""}, {"google-work", "google", "회사 Google"}, {"kakao_biz", "kakao", ""}}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestProviderInstanceProblems(t *testing.T) {
	tests := []struct {
		name, head string
		want       []string
	}{
		{"unknown kind", "providers:\n  corp:\n    kind: gogle\n    client_id: x\n",
			[]string{`c.yaml:3: providers.corp.kind: unknown provider kind "gogle" (did you mean "google"?); known kinds: ` + knownKinds}},
		{"own id needs a kind", "providers:\n  corp:\n    client_id: x\n",
			[]string{`c.yaml:2: providers.corp: unknown provider "corp"; known providers: ` + knownKinds + ` (an id of your own needs kind: one of them)`}},
		{"id with capitals", "providers:\n  Corp:\n    kind: google\n",
			[]string{`c.yaml:2: providers.Corp: "Corp" is not a provider id: use lower-case letters, digits, '-' and '_', starting with a letter or digit (at most 64)`}},
		{"id starting with dash", "providers:\n  -corp: {kind: kakao, client_id: k}\n",
			[]string{`c.yaml:2: providers.-corp: "-corp" is not a provider id: use lower-case letters, digits, '-' and '_', starting with a letter or digit (at most 64)`}},
		{"id with colon", "providers:\n  'a:b': {kind: kakao, client_id: k}\n",
			[]string{`c.yaml:2: providers.a:b: "a:b" is not a provider id: use lower-case letters, digits, '-' and '_', starting with a letter or digit (at most 64)`}},
		{"rules follow the kind", "providers:\n  biz:\n    kind: naver\n    client_id: n\n",
			[]string{`c.yaml:2: providers.biz.client_secret: is required (set client_secret or client_secret_file)`}},
		{"kakao instance subject", "providers:\n  biz: {kind: kakao, client_id: k}\nupstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    allow:\n      users: ['biz:홍길동']\n",
			[]string{`c.yaml:7: upstreams[0].allow.users[0]: a kakao subject is the decimal user id, such as "biz:3456789012"`}},
		{"issuer twice", "providers:\n  corp:\n    kind: oidc\n    client_id: c\n    client_secret: s\n    issuer: https://a.example\n    endpoints: {issuer: https://b.example}\n",
			[]string{`c.yaml:6: providers.corp.issuer: set issuer or endpoints.issuer, not both`}},
		{"github subject", "providers:\n  github: {client_id: g, client_secret: s}\nupstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    allow:\n      users: ['github:octocat']\n",
			[]string{`c.yaml:7: upstreams[0].allow.users[0]: a github subject is the decimal user id, such as "github:3456789012"`}},
		{"kakao oidc with another issuer", "providers:\n  kakao:\n    client_id: k\n    oidc: true\n    endpoints: {issuer: 'https://kauth.example.com', auth_url: 'https://kauth.example.com/a', token_url: 'https://kauth.example.com/t', jwks_url: 'https://kauth.example.com/j'}\n",
			[]string{`c.yaml:5: providers.kakao.endpoints.userinfo_url: is required with an issuer other than Kakao's (kakao has no discovery here)`}},
		{"allow names the id, not the kind", "providers:\n  biz: {kind: kakao, client_id: k}\nupstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    allow:\n      providers: [kakao]\n",
			[]string{`c.yaml:7: upstreams[0].allow.providers[0]: "kakao" is not a configured provider (configured: biz)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sameLines(t, problemLines(t, doc(tc.head), noEnv), tc.want)
		})
	}
}

// TestIssuerWarningLine: a plain-http issuer written as providers.X.issuer
// is warned about on that line.
func TestIssuerWarningLine(t *testing.T) {
	c := mustParse(t, "session: {store: redis}\nproviders:\n  corp:\n    kind: oidc\n    client_id: c\n    client_secret: s\n    issuer: http://sso.example.com/realms/main\n")
	var got []string
	for _, w := range c.Warnings() {
		got = append(got, w.String())
	}
	want := []string{"c.yaml:7: providers.corp.endpoints.issuer: plain http on a non-loopback host: codes and tokens travel unencrypted"}
	sameLines(t, got, want)
}
