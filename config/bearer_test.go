package config

import (
	"slices"
	"testing"
)

func TestBearerConfig(t *testing.T) {
	c := mustParse(t, `upstreams:
  - name: api
    path: /api/
    url: http://127.0.0.1:8080
    bearer:
      issuers:
        - issuer: https://sso.example.com
          audiences: [wiki-api, other]
        - issuer: https://login.example.org/tenant/v2.0
          audiences: [api://wiki]
          jwks_url: https://login.example.org/keys
    allow:
      scopes: [wiki.read, wiki.write]
      clients: [batch-job]
`)
	u := c.Upstreams[0]
	if len(u.Bearer.Issuers) != 2 {
		t.Fatalf("issuers: %+v", u.Bearer.Issuers)
	}
	is := u.Bearer.Issuers[1]
	if is.Issuer != "https://login.example.org/tenant/v2.0" || is.JWKSURL != "https://login.example.org/keys" ||
		!slices.Equal(is.Audiences, []string{"api://wiki"}) || !slices.Equal(u.Bearer.Issuers[0].Audiences, []string{"wiki-api", "other"}) {
		t.Errorf("issuers: %+v", u.Bearer.Issuers)
	}
	if !slices.Equal(u.Allow.Scopes, []string{"wiki.read", "wiki.write"}) || !slices.Equal(u.Allow.Clients, []string{"batch-job"}) {
		t.Errorf("allow: %+v", u.Allow)
	}
}

func TestBearerProblems(t *testing.T) {
	tests := []struct {
		name string
		head string
		want []string
	}{
		{"issuer and audiences missing", "upstreams:\n  - name: api\n    url: http://127.0.0.1:8080\n    bearer:\n      issuers:\n        - jwks_url: https://sso.example.com/keys\n",
			[]string{
				`c.yaml:6: upstreams[0].bearer.issuers[0].issuer: is required (the tokens' iss, such as "https://sso.example.com")`,
				`c.yaml:6: upstreams[0].bearer.issuers[0].audiences: is required (at least one audience the tokens' aud must name)`,
			}},
		{"issuer not a URL", "upstreams:\n  - name: api\n    url: http://127.0.0.1:8080\n    bearer:\n      issuers:\n        - issuer: sso.example.com\n          audiences: [a]\n",
			[]string{`c.yaml:6: upstreams[0].bearer.issuers[0].issuer: must be an absolute http:// or https:// URL`}},
		{"public upstream", "upstreams:\n  - name: api\n    url: http://127.0.0.1:8080\n    auth: public\n    bearer:\n      issuers:\n        - issuer: https://sso.example.com\n          audiences: [a]\n",
			[]string{`c.yaml:5: upstreams[0].bearer: has no effect on a public upstream (auth: public)`}},
		{"scopes without bearer", "upstreams:\n  - name: api\n    url: http://127.0.0.1:8080\n    allow:\n      scopes: [a]\n      clients: [b]\n",
			[]string{
				`c.yaml:5: upstreams[0].allow.scopes: only applies to bearer tokens; set bearer.issuers on this upstream`,
				`c.yaml:6: upstreams[0].allow.clients: only applies to bearer tokens; set bearer.issuers on this upstream`,
			}},
		{"scope with a space", "upstreams:\n  - name: api\n    url: http://127.0.0.1:8080\n    bearer:\n      issuers:\n        - issuer: https://sso.example.com\n          audiences: [a]\n    allow:\n      scopes: ['a b']\n",
			[]string{`c.yaml:9: upstreams[0].allow.scopes[0]: must be one scope, without spaces`}},
		{"one issuer, two jwks_url", "upstreams:\n  - name: a\n    path: /a\n    url: http://127.0.0.1:8080\n    bearer:\n      issuers:\n        - issuer: https://sso.example.com\n          audiences: [a]\n  - name: b\n    path: /b\n    url: http://127.0.0.1:8080\n    bearer:\n      issuers:\n        - issuer: https://sso.example.com\n          audiences: [b]\n          jwks_url: https://keys.example.com/\n",
			[]string{`c.yaml:16: upstreams[1].bearer.issuers[0].jwks_url: another upstream gives issuer "https://sso.example.com" the jwks_url ""; one issuer has one set of keys`}},
		{"unknown key", "upstreams:\n  - name: api\n    url: http://127.0.0.1:8080\n    bearer:\n      issuer: https://sso.example.com\n",
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemLines(t, doc(tt.head), noEnv)
			if tt.want == nil {
				if len(got) == 0 {
					t.Fatal("no problem reported")
				}
				return
			}
			sameLines(t, got, tt.want)
		})
	}
}
