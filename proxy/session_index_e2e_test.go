package proxy_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers/providertest"
)

// TestLoginRecordsSessionIndexes: a login records the browser's User-Agent
// and address (through a trusted proxy, the forwarded client) and the
// issuer's sid from the id_token, and ending the sessions of that sid signs
// the browser out, on either store.
func TestLoginRecordsSessionIndexes(t *testing.T) {
	for _, store := range []string{"memory", "redis"} {
		t.Run(store, func(t *testing.T) {
			clk := &clock{t: time.Now()}
			issuer, err := providertest.Start("google", providertest.Options{ClientID: "google-client",
				ClientSecret: "google-secret", Now: clk.Now, Logout: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(issuer.Close)
			g := newGateway(t, gatewayConfig{store: store, now: clk,
				fakes: map[string]*providertest.Fake{"google": issuer}})
			u := providertest.DefaultUsers("google")[0]
			b := newBrowser(t)
			if resp, _ := g.login(b, "google", u.ID, g.URL+"/app/"); resp.StatusCode != http.StatusOK {
				t.Fatalf("login: %d after %v", resp.StatusCode, b.hops)
			}
			s := userSession(t, g, "google:"+u.ID)
			if s.SID == "" || s.UserAgent != "Go-http-client/1.1" || s.IP != "127.0.0.1" {
				t.Errorf("recorded sid %q, User-Agent %q, IP %q; want the id_token's sid, Go-http-client/1.1, 127.0.0.1", s.SID, s.UserAgent, s.IP)
			}
			ctx := context.Background()
			if list, err := g.sessions.UserSessions(ctx, "google:"+u.ID); err != nil || len(list) != 1 || list[0].ID != s.ID {
				t.Errorf("UserSessions: %d, %v; want this one", len(list), err)
			}
			if n, err := g.sessions.EndProviderSessions(ctx, "google", s.SID); err != nil || n != 1 {
				t.Fatalf("EndProviderSessions: %d, %v; want 1", n, err)
			}
			if resp, _ := b.get(g.URL + "/app/"); resp.StatusCode != http.StatusOK || len(b.hops) < 2 {
				t.Errorf("after the issuer's logout: status %d, hops %v; want the sign-in page", resp.StatusCode, b.hops)
			}
		})
	}
}
