package providers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestGothKinds builds every goth kind the way a login does: each one
// takes the gateway's HTTP client (setHTTPClient would panic otherwise),
// and its authorization URL carries the state, the callback and, where
// the kind takes PKCE, the challenge. No network: BeginAuth only builds a
// URL.
func TestGothKinds(t *testing.T) {
	n := 0
	for _, kind := range Kinds() {
		s := specs[kind]
		if s.goth == nil {
			continue
		}
		n++
		t.Run(kind, func(t *testing.T) {
			p, err := New(Options{Name: kind, ClientID: "cid", ClientSecret: "sec",
				RedirectURL: "https://gate.example.com/oauth2/callback/" + kind})
			if err != nil {
				t.Fatal(err)
			}
			if p.IsOIDC() {
				t.Error("a goth kind reports OpenID Connect")
			}
			a := p.NewAuthRequest()
			raw, err := p.AuthURLContext(context.Background(), a)
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(raw)
			if err != nil || u.Scheme != "https" {
				t.Fatalf("auth URL %q", raw)
			}
			q := u.Query()
			if q.Get("state") != a.State || !strings.Contains(raw, url.QueryEscape("https://gate.example.com/oauth2/callback/"+kind)) {
				t.Errorf("auth URL %q lacks the state or the callback", raw)
			}
			if got := q.Get("code_challenge") != ""; got != s.pkce {
				t.Errorf("code_challenge sent = %v, want %v", got, s.pkce)
			}
			// The client handed to goth is the call's, never the default.
			gp := s.goth.new(p.gothArgsFor(context.Background(), ""))
			if !clientIsOurs(gp) {
				t.Errorf("%T: HTTPClient not set", gp)
			}
		})
	}
	if n < 30 {
		t.Errorf("%d goth kinds, want the catalogue", n)
	}
}

// clientIsOurs reports whether goth's provider holds a client whose
// transport is the adapter's.
func clientIsOurs(gp interface{}) bool {
	type clienter interface{ Client() *http.Client }
	c, ok := gp.(clienter)
	if !ok {
		return true // no accessor: setHTTPClient already checked the field
	}
	_, ours := c.Client().Transport.(*callTransport)
	return ours
}

func FuzzParseGitHubEmails(f *testing.F) {
	for _, s := range []string{`[{"email":"a@b.c","primary":true,"verified":true,"visibility":"public"}]`, `[]`, `null`,
		`[{"email":null,"primary":"yes"}]`, `{"message":"Not Found"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		list, err := parseGitHubEmails([]byte(body))
		if err != nil {
			return
		}
		if len(list) > len(body) {
			t.Fatalf("%d entries from %d bytes", len(list), len(body))
		}
	})
}
