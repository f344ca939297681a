package proxy_test

import (
	"net/http"
	"testing"

	"github.com/socialgate/socialgate/providers/providertest"
)

// TestGitHubLoginThroughGoth signs in with GitHub, a kind from goth's
// catalogue, over real HTTP: a user with a public e-mail, one whose
// e-mail only /user/emails tells (with a Hangul name), one with neither a
// name nor a verified e-mail, and one with no e-mail at all.
func TestGitHubLoginThroughGoth(t *testing.T) {
	g := newGateway(t, gatewayConfig{instances: []instance{{id: "github", kind: "github"}}})
	for _, u := range providertest.DefaultUsers(providertest.GitHub) {
		t.Run(u.Nickname, func(t *testing.T) {
			b := newBrowser(t)
			resp, e := g.login(b, "github", u.ID, g.URL+"/app/x")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("landed with %d; hops %v", resp.StatusCode, b.hops)
			}
			name := u.Name
			if name == "" {
				name = u.Nickname
			}
			verified := "false"
			if u.Email != "" && u.EmailVerified {
				verified = "true"
			}
			for k, want := range map[string]string{
				"X-Forwarded-User":               "github:" + u.ID,
				"X-Forwarded-Provider":           "github",
				"X-Forwarded-Email":              u.Email,
				"X-Forwarded-Email-Verified":     verified,
				"X-Forwarded-Preferred-Username": percentName(name),
			} {
				if got := e.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}
