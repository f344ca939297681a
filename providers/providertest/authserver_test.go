package providertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAuthServerTokenEndpoint: the client-credentials grant with both
// client authentication methods, and RFC 6749 5.2's errors.
func TestAuthServerTokenEndpoint(t *testing.T) {
	as, err := StartAuthServer(AuthServerOptions{Clients: []AuthClient{{ID: "job", Secret: "s e/cret", Scopes: []string{"a", "b"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	basic := func(id, secret string) string {
		r := &http.Request{Header: http.Header{}}
		r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		return r.Header.Get("Authorization")
	}
	cases := []struct {
		name, auth string
		form       url.Values
		status     int
		errCode    string
		scope      string
	}{
		{"basic", basic("job", "s e/cret"), url.Values{"grant_type": {"client_credentials"}, "scope": {"a"}}, 200, "", "a"},
		{"post, default scopes", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {"job"}, "client_secret": {"s e/cret"}}, 200, "", "a b"},
		{"wrong secret", basic("job", "nope"), url.Values{"grant_type": {"client_credentials"}}, 401, "invalid_client", ""},
		{"unknown client", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {"x"}, "client_secret": {"y"}}, 401, "invalid_client", ""},
		{"both methods", basic("job", "s e/cret"), url.Values{"grant_type": {"client_credentials"}, "client_secret": {"s e/cret"}}, 400, "invalid_request", ""},
		{"password grant", basic("job", "s e/cret"), url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"p"}}, 400, "unsupported_grant_type", ""},
		{"scope not allowed", basic("job", "s e/cret"), url.Values{"grant_type": {"client_credentials"}, "scope": {"a admin"}}, 400, "invalid_scope", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, as.TokenURL(), strings.NewReader(c.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var got struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				Scope       string `json:"scope"`
				Error       string `json:"error"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if resp.StatusCode != c.status || got.Error != c.errCode || got.Scope != c.scope {
				t.Fatalf("got %d %+v, want %d %q scope %q", resp.StatusCode, got, c.status, c.errCode, c.scope)
			}
			if c.status == 200 && (got.TokenType != "Bearer" || strings.Count(got.AccessToken, ".") != 2) {
				t.Errorf("token answer %+v", got)
			}
			if c.status == 401 && c.auth != "" && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("invalid_client after Basic without WWW-Authenticate")
			}
		})
	}
	resp, err := http.Get(as.TokenURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /token: %d, want 405", resp.StatusCode)
	}
}
