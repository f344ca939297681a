package proxy

import (
	"testing"

	"github.com/socialgate/socialgate/session"
)

// TestUserRuleAccounts: allow.users takes "provider:subject" and, with
// accounts, the gateway user ID or any identity linked to it.
func TestUserRuleAccounts(t *testing.T) {
	const acc = "sg_AAAAAAAAAAAAAAAAAAAAAA"
	linked := &session.Session{Provider: "google", Subject: "1", Account: acc, Identities: []string{"google:1", "kakao:2"}}
	plain := &session.Session{Provider: "google", Subject: "1"}
	for _, tc := range []struct {
		name  string
		users []string
		sess  *session.Session
		want  bool
	}{
		{"own identity", []string{"google:1"}, plain, true},
		{"gateway user", []string{acc}, linked, true},
		{"linked identity", []string{"kakao:2"}, linked, true},
		{"other identity", []string{"kakao:3"}, linked, false},
		{"gateway user without accounts", []string{acc}, plain, false},
		{"another gateway user", []string{"sg_BBBBBBBBBBBBBBBBBBBBBB"}, linked, false},
		{"no session", []string{"google:1"}, nil, false},
	} {
		r := userRule{}
		for _, u := range tc.users {
			r[u] = true
		}
		if got := r.allows(principal{sess: tc.sess}); got != tc.want {
			t.Errorf("%s: %t, want %t", tc.name, got, tc.want)
		}
	}
}
