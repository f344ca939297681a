package proxy_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// spyCookies wraps the gateway's handler to remember every Set-Cookie it
// sends; it only watches.
func (g *gateway) spyCookies(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&cookieSpy{ResponseWriter: w, out: g.issued}, r)
	})
}

type cookieSpy struct {
	http.ResponseWriter
	out  *syncBuffer
	done bool
}

func (c *cookieSpy) note() {
	if c.done {
		return
	}
	c.done = true
	for _, v := range c.Header()["Set-Cookie"] {
		_, _ = c.out.Write([]byte(v + "\n"))
	}
	// The state a login started with goes to the provider in Location.
	if u, err := url.Parse(c.Header().Get("Location")); err == nil {
		if st := u.Query().Get("state"); st != "" {
			_, _ = c.out.Write([]byte(pendingStatePrefix + st + "\n"))
		}
	}
}

// pendingStatePrefix marks a started login's state among the spied
// Set-Cookie lines.
const pendingStatePrefix = "pending-state "

func (c *cookieSpy) WriteHeader(code int) {
	if code >= 200 {
		c.note()
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *cookieSpy) Write(b []byte) (int, error) {
	c.note()
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (used by the reverse proxy to flush
// and hijack) reach the real writer.
func (c *cookieSpy) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// secretValue is one value that must never appear in a log line.
type secretValue struct{ what, v string }

// gatewaySecrets collects everything secret a gateway has seen or made:
// what the fakes received (codes, states, verifiers, nonces, client
// secrets, tokens), every cookie the gateway set and what is inside it
// (session IDs, pending states), and what the store holds for the fakes'
// users (session IDs, tokens, CSRF tokens).
func gatewaySecrets(g *gateway) []secretValue {
	var out []secretValue
	add := func(what, v string) {
		if len(v) >= 8 {
			out = append(out, secretValue{what, v})
		}
	}
	add("cookie secret", string(testSecret))
	for kind, f := range g.fakes {
		add(kind+" client secret", kind+"-secret")
		for _, r := range f.Requests() {
			for _, k := range []string{"code", "state", "access_token", "refresh_token", "client_secret",
				"code_verifier", "code_challenge", "nonce", "token", "id_token_hint"} {
				for _, v := range r.Form[k] {
					add(kind+" "+k+" sent to "+r.Path, v)
				}
			}
			a := r.Header.Get("Authorization")
			if tok, ok := strings.CutPrefix(a, "Bearer "); ok {
				add(kind+" bearer token", tok)
			}
			if basic, ok := strings.CutPrefix(a, "Basic "); ok {
				add(kind+" basic credentials", basic)
				if dec, err := base64.StdEncoding.DecodeString(basic); err == nil {
					_, pw, _ := strings.Cut(string(dec), ":")
					add(kind+" basic password", pw)
				}
			}
		}
	}
	for _, line := range strings.Split(g.issued.String(), "\n") {
		if st, ok := strings.CutPrefix(line, pendingStatePrefix); ok {
			add("pending state", st)
			continue
		}
		c, err := http.ParseSetCookie(line)
		if err != nil || c.Value == "" {
			continue
		}
		add("cookie "+c.Name, c.Value)
		r := &http.Request{Header: http.Header{"Cookie": {c.Name + "=" + c.Value}}}
		if id, ok := g.cookies.ReadSession(r); ok {
			add("session id", id)
		}
	}
	// Every user who signed in is named in a log line; their sessions hold
	// the tokens.
	for user := range loggedUsers(g.logs.String()) {
		list, err := g.store.ListUser(context.Background(), user)
		if err != nil {
			continue // the store may be down on purpose
		}
		for _, s := range list {
			add("session id", s.ID)
			add("access token", s.AccessToken)
			add("refresh token", s.RefreshToken)
			add("id token", s.IDToken)
			add("csrf token", s.CSRF)
		}
	}
	return out
}

// loggedUsers returns the "user" attribute of every JSON log line.
func loggedUsers(logs string) map[string]bool {
	users := map[string]bool{}
	for _, line := range strings.Split(logs, "\n") {
		var rec struct {
			User string `json:"user"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.User != "" {
			users[rec.User] = true
		}
	}
	return users
}

// assertNoSecretsLogged checks that no code, token, state, nonce, verifier,
// client secret, cookie value, session ID or CSRF token reached the
// gateway's log, raw or URL-escaped. newGateway runs it when every test
// ends; tests may call it earlier.
func assertNoSecretsLogged(t testing.TB, g *gateway) {
	t.Helper()
	logs := g.logs.String()
	if logs == "" {
		return
	}
	for _, s := range gatewaySecrets(g) {
		if strings.Contains(logs, s.v) || strings.Contains(logs, url.QueryEscape(s.v)) {
			t.Errorf("%s leaked into the log", s.what)
		}
	}
}
