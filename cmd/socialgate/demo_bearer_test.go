package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"
)

// TestDemoMachineClient follows the demo's printed recipe: a token from
// its authorization server with the client-credentials grant, then /api/
// with it; the sample app shows the client. A wrong audience or scope is
// not in the recipe, but a token on "/" (no bearer there) is refused.
func TestDemoMachineClient(t *testing.T) {
	base := startDemo(t)
	cc := clientcredentials.Config{ClientID: "demo-script", ClientSecret: "demo-script-secret",
		TokenURL: base + "/_fake/sso/token", Scopes: []string{"wiki.read"}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, readBody(t, resp)
	}
	if resp, body := get("/api/"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "client:demo-script") {
		t.Errorf("/api/ with the token: %d %.300s", resp.StatusCode, body)
	}
	if resp, _ := get("/"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/ with the token: %d, want 401", resp.StatusCode)
	}
}
