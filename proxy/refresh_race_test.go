package proxy_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/proxy"
)

// TestRefreshOnce fires many requests at a session whose token is due, at
// once, on one gateway and on two replicas sharing Redis: exactly one
// refresh reaches the provider and every request is served. Kakao would
// refuse a second refresh with a rotated token and end the session.
func TestRefreshOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		replicas int
		store    string
	}{
		{"one gateway, memory", 1, "memory"},
		{"one gateway, redis", 1, "redis"},
		{"two gateways, one redis", 2, "redis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := gatewayConfig{store: tc.store, refresh: time.Minute}
			if tc.store == "redis" {
				cfg.redisAddr = redisAddr(t)
			}
			gs := []*gateway{newGateway(t, cfg)}
			for len(gs) < tc.replicas {
				c := cfg
				c.fakes, c.now = gs[0].fakes, gs[0].now
				gs = append(gs, newGateway(t, c))
			}
			g := gs[0]
			u := providertest.DefaultUsers("kakao")[0]
			user := "kakao:" + u.ID
			b := newBrowser(t)
			g.login(b, "kakao", u.ID, g.URL+"/app/")
			cookie := sessionCookie(t, b, g)
			s0 := userSession(t, g, user)

			// The provider is slow, so the refresh is still in flight
			// while the other requests arrive.
			g.fakes["kakao"].SetLatency(300 * time.Millisecond)
			g.now.Advance(s0.TokenExpiry.Sub(g.now.Now()) + time.Second)
			const perGateway = 6
			var wg sync.WaitGroup
			statuses := make(chan int, perGateway*len(gs))
			for i := range perGateway * len(gs) {
				target := gs[i%len(gs)].URL + "/oauth2/userinfo"
				wg.Go(func() {
					req, _ := http.NewRequest(http.MethodGet, target, nil)
					req.Header.Set("Cookie", cookie)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Errorf("GET %s: %v", target, err)
						return
					}
					resp.Body.Close()
					statuses <- resp.StatusCode
				})
			}
			wg.Wait()
			close(statuses)
			for s := range statuses {
				if s != http.StatusOK {
					t.Errorf("concurrent request: status %d, want 200", s)
				}
			}
			if n := len(refreshCalls(g.fakes["kakao"])); n != 1 {
				t.Errorf("refreshes: got %d, want exactly 1", n)
			}
			s1 := userSession(t, g, user)
			if s1.AccessToken == s0.AccessToken {
				t.Errorf("the refreshed token was not stored")
			}
			g.fakes["kakao"].SetLatency(0)
			for _, gw := range gs {
				if status := apiStatus(t, gw.URL+"/oauth2/userinfo", cookie); status != http.StatusOK {
					t.Errorf("after the refresh, %s: %d, want 200", gw.URL, status)
				}
			}
			if n := len(refreshCalls(g.fakes["kakao"])); n != 1 {
				t.Errorf("refreshes after the refreshed token is stored: got %d, want 1", n)
			}
		})
	}
}

// heldRefresh holds provider refreshes until the test releases them.
type heldRefresh struct {
	proxy.Provider
	called  chan struct{}
	release chan struct{}
}

func (p *heldRefresh) Refresh(ctx context.Context, refreshToken string) (providers.Tokens, error) {
	p.called <- struct{}{}
	select {
	case <-p.release:
	case <-ctx.Done():
		return providers.Tokens{}, ctx.Err()
	}
	return p.Provider.Refresh(ctx, refreshToken)
}

// TestRefreshDoesNotReviveSignedOutSession signs out while a refresh is
// at the provider: writing the refreshed session back must not bring the
// ended session to life again.
func TestRefreshDoesNotReviveSignedOutSession(t *testing.T) {
	for _, store := range []string{"memory", "redis"} {
		t.Run(store, func(t *testing.T) {
			called, release := make(chan struct{}, 1), make(chan struct{})
			g := newGateway(t, gatewayConfig{store: store, refresh: time.Minute, wrapProvider: func(p proxy.Provider) proxy.Provider {
				return &heldRefresh{Provider: p, called: called, release: release}
			}})
			u := providertest.DefaultUsers("kakao")[0]
			b := newBrowser(t)
			g.login(b, "kakao", u.ID, g.URL+"/app/")
			cookie := sessionCookie(t, b, g)
			g.now.Advance(userSession(t, g, "kakao:"+u.ID).TokenExpiry.Sub(g.now.Now()) + time.Second)

			status := make(chan int, 1)
			go func() {
				req, _ := http.NewRequest(http.MethodGet, g.URL+"/oauth2/userinfo", nil)
				req.Header.Set("Cookie", cookie)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					status <- 0
					return
				}
				resp.Body.Close()
				status <- resp.StatusCode
			}()
			select {
			case <-called:
			case <-time.After(10 * time.Second):
				t.Fatal("the request did not start a refresh")
			}
			signOut(t, g, b, false)
			close(release)
			if s := <-status; s != http.StatusUnauthorized {
				t.Errorf("the request whose refresh outlived the session: %d, want 401", s)
			}
			if list, err := g.store.ListUser(context.Background(), "kakao:"+u.ID); err != nil || len(list) != 0 {
				t.Errorf("sessions after sign-out during a refresh: %d (err %v), want 0", len(list), err)
			}
			if s := apiStatus(t, g.URL+"/oauth2/userinfo", cookie); s != http.StatusUnauthorized {
				t.Errorf("old cookie after sign-out: %d, want 401", s)
			}
		})
	}
}

// TestRefreshOutlivesClient: a browser that goes away while its request
// refreshes must not make the gateway drop the tokens the provider has
// just issued (Kakao would already have retired the old refresh token).
func TestRefreshOutlivesClient(t *testing.T) {
	called, release := make(chan struct{}, 1), make(chan struct{})
	// clientGone closes when the server has seen the browser leave, so the
	// refresh is released only after a request-bound context would be dead.
	clientGone := make(chan struct{})
	var goneOnce sync.Once
	watch := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/oauth2/userinfo" {
				go func() {
					<-r.Context().Done()
					goneOnce.Do(func() { close(clientGone) })
				}()
			}
			next.ServeHTTP(w, r)
		})
	}
	g := newGateway(t, gatewayConfig{refresh: time.Minute, handler: watch, wrapProvider: func(p proxy.Provider) proxy.Provider {
		return &heldRefresh{Provider: p, called: called, release: release}
	}})
	u := providertest.DefaultUsers("kakao")[0]
	user := "kakao:" + u.ID
	b := newBrowser(t)
	g.login(b, "kakao", u.ID, g.URL+"/app/")
	cookie := sessionCookie(t, b, g)
	s0 := userSession(t, g, user)
	g.now.Advance(s0.TokenExpiry.Sub(g.now.Now()) + time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"/oauth2/userinfo", nil)
		req.Header.Set("Cookie", cookie)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-called:
	case <-time.After(10 * time.Second):
		t.Fatal("the request did not start a refresh")
	}
	cancel() // the browser gives up
	<-done
	select {
	case <-clientGone:
	case <-time.After(10 * time.Second):
		t.Fatal("the server never saw the browser leave")
	}
	close(release)

	deadline := time.Now().Add(10 * time.Second)
	for userSession(t, g, user).AccessToken == s0.AccessToken {
		if time.Now().After(deadline) {
			t.Fatal("the refreshed tokens were never stored after the client went away")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(refreshCalls(g.fakes["kakao"])); n != 1 {
		t.Errorf("refreshes: got %d, want 1", n)
	}
}
