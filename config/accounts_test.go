package config

import (
	"path/filepath"
	"testing"
)

func TestAccountsProblems(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		want       []string
	}{
		{"link_by_email needs enabled", "accounts:\n  link_by_email: true\n",
			[]string{`c.yaml:2: accounts.link_by_email: needs accounts.enabled: true`}},
		{"naver has no logout", "providers:\n  naver:\n    client_id: n\n    client_secret: s\n    logout: true\n",
			[]string{`c.yaml:5: providers.naver.logout: naver has no logout (sign-out ends the gateway's session only)`}},
		{"admin_key is kakao's", "providers:\n  google:\n    client_id: g\n    client_secret: s\n    admin_key: k\n",
			[]string{`c.yaml:5: providers.google.admin_key: only applies to kakao (it verifies Kakao's unlink callback)`}},
		{"gateway user without accounts", "upstreams:\n  - name: app\n    url: http://127.0.0.1:8080\n    allow:\n      users: [sg_AAAAAAAAAAAAAAAAAAAAAA]\n",
			[]string{`c.yaml:5: upstreams[0].allow.users[0]: a gateway user ID needs accounts.enabled: true`}},
		{"bad gateway user", "accounts:\n  enabled: true\nupstreams:\n  - name: app\n    url: http://127.0.0.1:8080\n    allow:\n      users: [sg_short]\n",
			[]string{`c.yaml:7: upstreams[0].allow.users[0]: a gateway user ID is "sg_" and 22 characters, as X-Forwarded-User shows it`}},
		{"file with redis", "session:\n  store: redis\n  redis:\n    addrs: ['127.0.0.1:6379']\naccounts:\n  enabled: true\n  file: a.json\n",
			[]string{`c.yaml:7: accounts.file: is only used with session.store: memory (Redis keeps the accounts)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sameLines(t, problemLines(t, doc(tc.head), noEnv), tc.want)
		})
	}
}

func TestAccountsValues(t *testing.T) {
	c := mustParse(t, "accounts:\n  enabled: true\n  link_by_email: true\nproviders:\n  kakao:\n    client_id: k\n    logout: true\n    admin_key: ak\n")
	if !c.Accounts.Enabled || !c.Accounts.LinkByEmail || c.Accounts.File != filepath.Join(".", defaultAccountsFile) {
		t.Errorf("accounts = %+v", c.Accounts)
	}
	if p := c.Providers[0]; !p.Logout || p.AdminKey != "ak" {
		t.Errorf("kakao = %+v", p)
	}
}
