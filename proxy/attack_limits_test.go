package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/session"
)

// pendingStates starts n logins at kakao, from one browser (b) or, with b
// nil, each from a new cookie-less client, and returns the states.
func pendingStates(t *testing.T, g *gateway, b *browser, n int) []string {
	t.Helper()
	var states []string
	for range n {
		c := b
		if c == nil {
			c = newBrowser(t)
		}
		resp := c.do(http.MethodGet, g.URL+"/oauth2/start/kakao?rd=/x", nil)
		resp.Body.Close()
		u, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || err != nil {
			t.Fatalf("start: status %d", resp.StatusCode)
		}
		states = append(states, u.Query().Get("state"))
	}
	return states
}

// alive counts the states still pending in the store (consuming them).
func alive(t *testing.T, store session.Store, states []string) int {
	t.Helper()
	n := 0
	for _, s := range states {
		_, err := store.TakeLoginState(context.Background(), s)
		switch {
		case err == nil:
			n++
		case !errors.Is(err, session.ErrNotFound):
			t.Fatalf("take login state: %v", err)
		}
	}
	return n
}

// TestAttackPendingLoginsBounded: hammering /oauth2/start from one browser
// leaves at most session.MaxPendingLogins states in the store (the oldest
// are evicted), with either store.
func TestAttackPendingLoginsBounded(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		g := newGateway(t, gatewayConfig{})
		b := newBrowser(t)
		if n := alive(t, g.store, pendingStates(t, g, b, 50)); n != session.MaxPendingLogins {
			t.Errorf("one browser, 50 starts: %d states pending, want %d", n, session.MaxPendingLogins)
		}
	})
	t.Run("redis", func(t *testing.T) {
		addr := redisAddr(t)
		g := newGateway(t, gatewayConfig{store: "redis", redisAddr: addr})
		b := newBrowser(t)
		if n := alive(t, g.store, pendingStates(t, g, b, 50)); n != session.MaxPendingLogins {
			t.Errorf("one browser, 50 starts: %d states pending, want %d", n, session.MaxPendingLogins)
		}
		pendingStates(t, g, nil, 30)
		rc := redis.NewClient(&redis.Options{Addr: addr})
		defer rc.Close()
		ctx := context.Background()
		keys, err := rc.Keys(ctx, "sgtest:ls:*").Result()
		if err != nil || len(keys) < 30 {
			t.Fatalf("keys: %d, %v", len(keys), err)
		}
		for _, k := range keys {
			if ttl, err := rc.PTTL(ctx, k).Result(); err != nil || ttl <= 0 || ttl > 10*time.Minute {
				t.Errorf("key %s: TTL %v (%v), want (0, 10m]", k, ttl, err)
			}
		}
	})
}

// TestAttackPendingLoginsFlood is issue 8's 130,000 cookie-less starts with
// an 8 KB rd, scaled down with the budget: a long rd is not kept, one
// client's flood is answered 429 once its share is spent, a flood from many
// addresses 503 once the budget is, each with a clear page, and the login a
// real browser started before the flood still finishes.
func TestAttackPendingLoginsFlood(t *testing.T) {
	for _, store := range []string{"memory", "redis"} {
		t.Run(store, func(t *testing.T) {
			// The short tier floods a smaller budget: the same bounds, a
			// quarter of the requests.
			budget, share, flood := 256<<10, 64<<10, 2000
			if testing.Short() {
				budget, share, flood = 64<<10, 16<<10, 600
			}
			g := newGateway(t, gatewayConfig{store: store, trusted: []string{"127.0.0.1/32"},
				loginBytes: int64(budget), clientLoginBytes: int64(share)})
			victim := newBrowser(t)
			resp := victim.do(http.MethodGet, g.URL+"/oauth2/start/kakao?rd=/%EC%9C%84%ED%82%A4", nil)
			resp.Body.Close()
			toProvider := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusFound || toProvider == "" {
				t.Fatalf("victim's start: status %d", resp.StatusCode)
			}

			noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			rd := g.URL + "/x?" + strings.Repeat("a", 8<<10)
			start := func(client string) *http.Response {
				req, _ := http.NewRequest(http.MethodGet, g.URL+"/oauth2/start/kakao?"+url.Values{"rd": {rd}}.Encode(), nil)
				req.Header.Set("X-Forwarded-For", client)
				req.Header.Set("Accept", "text/html")
				resp, err := noFollow.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				return resp
			}
			// One address: its share runs out long before the budget.
			var states []string
			status := map[int]int{}
			for range 200 {
				resp := start("198.51.100.7")
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				status[resp.StatusCode]++
				if resp.StatusCode == http.StatusTooManyRequests && !strings.Contains(string(body), "Too many sign-ins") {
					t.Errorf("429 page: %q, want the too-many-sign-ins text", body)
				}
				if resp.StatusCode == http.StatusTooManyRequests && !strings.Contains(string(body), `id="retry" href="/oauth2/sign_in"`) {
					t.Errorf("429 page without a way to try again: %q", body)
				}
				if resp.StatusCode == http.StatusFound {
					u, _ := url.Parse(resp.Header.Get("Location"))
					states = append(states, u.Query().Get("state"))
				}
			}
			if status[http.StatusFound] == 0 || status[http.StatusFound] > share/(8<<10) || status[http.StatusTooManyRequests] == 0 {
				t.Errorf("one address, 200 starts: %v; want a few 302s (at most %d), then 429", status, share/(8<<10))
			}
			// Many addresses: the budget runs out; nothing is evicted.
			clear(status)
			for i := range flood {
				resp := start(fmt.Sprintf("203.0.%d.%d", i/250, i%250+1))
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				status[resp.StatusCode]++
				if resp.StatusCode == http.StatusServiceUnavailable && !strings.Contains(string(body), "Too many sign-ins are in progress") {
					t.Errorf("503 page: %q, want the busy text", body)
				}
				if resp.StatusCode == http.StatusFound {
					u, _ := url.Parse(resp.Header.Get("Location"))
					states = append(states, u.Query().Get("state"))
				}
			}
			// Each login costs at least 256 bytes, so at most budget/256
			// fit; more than budget/8 KiB fit only because the 8 KB rd was
			// not kept.
			if n := status[http.StatusFound]; status[http.StatusServiceUnavailable] == 0 || n > budget/256 || n <= budget/(8<<10) {
				t.Errorf("%d addresses: %v; want between %d and %d 302s, then 503", flood, status, budget/(8<<10)+1, budget/256)
			}
			if n := alive(t, g.store, states); n != len(states) {
				t.Errorf("%d of the %d logins started were evicted", len(states)-n, len(states))
			}
			g.fakes["kakao"].AutoApprove(providertest.DefaultUsers("kakao")[0].ID)
			resp, _ = victim.get(toProvider)
			if resp.StatusCode != http.StatusOK || !strings.HasSuffix(victim.hops[len(victim.hops)-1], "/%EC%9C%84%ED%82%A4") {
				t.Errorf("victim's login after the flood: status %d, hops %v; want it to land on its deep link", resp.StatusCode, victim.hops)
			}
		})
	}
}
