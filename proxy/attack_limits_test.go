package proxy_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

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
// are evicted), with either store. Cookie-less clients are bounded by the
// memory store's global cap; the Redis store bounds them only by the
// 10-minute TTL, which every state key carries (docs/SECURITY.md).
func TestAttackPendingLoginsBounded(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		const max = 20
		g := newGateway(t, gatewayConfig{memory: session.MemoryOptions{MaxLoginStates: max}})
		b := newBrowser(t)
		if n := alive(t, g.store, pendingStates(t, g, b, 50)); n != session.MaxPendingLogins {
			t.Errorf("one browser, 50 starts: %d states pending, want %d", n, session.MaxPendingLogins)
		}
		if n := alive(t, g.store, pendingStates(t, g, nil, 5*max)); n > max {
			t.Errorf("%d cookie-less starts: %d states pending, want at most %d", 5*max, n, max)
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
		keys, err := rc.Keys(ctx, "sgtest:*").Result()
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
