package providers

import (
	"context"
	"errors"
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

// TestGothFailHidesTokens: a transport error quoting a goth provider's URL
// with ?access_token= (Facebook's Graph API) loses the query, and the
// call's secrets are redacted anywhere else.
func TestGothFailHidesTokens(t *testing.T) {
	p, err := New(Options{Name: "facebook", ClientID: "cid", ClientSecret: "client-secret-value",
		RedirectURL: "https://gate.example.com/oauth2/callback/facebook"})
	if err != nil {
		t.Fatal(err)
	}
	cause := &url.Error{Op: "Get", URL: "https://graph.facebook.com/me?access_token=EAAtoken123&appsecret_proof=abc",
		Err: context.DeadlineExceeded}
	got := p.gothFail("userinfo", cause, "EAAtoken123")
	for _, leak := range []string{"EAAtoken123", "appsecret_proof", "abc"} {
		if strings.Contains(got.Error(), leak) {
			t.Errorf("error %q contains %q", got, leak)
		}
	}
	if !errors.Is(got, ErrProvider) || !errors.Is(got, context.DeadlineExceeded) {
		t.Errorf("error %v: want ErrProvider and DeadlineExceeded", got)
	}
	got = p.gothFail("exchange", errors.New(`oauth2: "invalid" code-xyz client-secret-value`), "code-xyz")
	if strings.Contains(got.Error(), "code-xyz") || strings.Contains(got.Error(), "client-secret-value") {
		t.Errorf("error %q leaks the code or the client secret", got)
	}
}

func FuzzStripQueries(f *testing.F) {
	for _, s := range []string{`Get "https://g/me?access_token=x&a=b": timeout`, "??", "a?b c?d", `"?'`, "?\u00e9\u0000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := stripQueries(s)
		// Every query is cut: a "?" is always followed by the ellipsis, and
		// nothing after it up to the next space or quote survives.
		for i := 0; i < len(out); i++ {
			if out[i] == '?' && !strings.HasPrefix(out[i+1:], "…") {
				t.Fatalf("stripQueries(%q) = %q keeps a query", s, out)
			}
		}
		if len(out) > len(s)*4+4 {
			t.Fatalf("stripQueries(%q) grew to %d bytes", s, len(out))
		}
	})
}
