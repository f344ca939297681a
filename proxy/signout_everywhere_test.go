package proxy_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/proxy"
)

// signOut presses the confirm page's button, with everywhere=1 when asked.
func signOut(t *testing.T, g *gateway, b *browser, everywhere bool) {
	t.Helper()
	resp, body := b.get(g.URL + "/oauth2/sign_out")
	m := csrfRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("sign-out page: %d, csrf found %t", resp.StatusCode, m != nil)
	}
	form := url.Values{"csrf": {m[1]}}
	if everywhere {
		form.Set("everywhere", "1")
	}
	resp = b.do(http.MethodPost, g.URL+"/oauth2/sign_out", strings.NewReader(form.Encode()))
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("sign out: %d, want 302", resp.StatusCode)
	}
}

func TestSignOutEverywhere(t *testing.T) {
	for _, tc := range []struct {
		name       string
		everywhere bool
		otherLives bool // the same user's other browser
	}{
		{"this browser only", false, true},
		{"everywhere", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, gatewayConfig{})
			users := providertest.DefaultUsers("kakao")
			me, someoneElse := users[0], users[1]
			laptop, phone, other := newBrowser(t), newBrowser(t), newBrowser(t)
			g.login(laptop, "kakao", me.ID, g.URL+"/app/")
			laptopCookie := sessionCookie(t, laptop, g)
			g.login(phone, "kakao", me.ID, g.URL+"/app/")
			phoneCookie := sessionCookie(t, phone, g)
			g.login(other, "kakao", someoneElse.ID, g.URL+"/app/")
			otherCookie := sessionCookie(t, other, g)

			signOut(t, g, laptop, tc.everywhere)

			want := map[string]int{"laptop": http.StatusUnauthorized, "phone": http.StatusUnauthorized, "other user": http.StatusOK}
			if tc.otherLives {
				want["phone"] = http.StatusOK
			}
			for name, cookie := range map[string]string{"laptop": laptopCookie, "phone": phoneCookie, "other user": otherCookie} {
				if got := apiStatus(t, g.URL+"/oauth2/userinfo", cookie); got != want[name] {
					t.Errorf("%s after sign-out: %d, want %d", name, got, want[name])
				}
			}
			list, err := g.store.ListUser(context.Background(), "kakao:"+me.ID)
			if wantN := map[bool]int{true: 1, false: 0}[tc.otherLives]; err != nil || len(list) != wantN {
				t.Errorf("stored sessions of the user: %d (err %v), want %d", len(list), err, wantN)
			}
		})
	}
}

// heldRevoke lets a test hold provider revocations until it releases them,
// to show that sign-out does not wait for them, and tells it (done, when
// set) when each has reached the provider.
type heldRevoke struct {
	proxy.Provider
	called  chan struct{}
	release chan struct{}
	done    chan error
}

func (p *heldRevoke) Revoke(ctx context.Context, t providers.Tokens) error {
	p.called <- struct{}{}
	select {
	case <-p.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	err := p.Provider.Revoke(ctx, t)
	if p.done != nil {
		p.done <- err
	}
	return err
}

func TestSignOutRevokesProviderTokens(t *testing.T) {
	for _, tc := range []struct {
		kind       string
		everywhere bool
	}{
		{"google", false}, {"naver", false}, {"kakao", false}, {"kakao", true},
	} {
		name := tc.kind
		if tc.everywhere {
			name += "/everywhere"
		}
		t.Run(name, func(t *testing.T) {
			release := make(chan struct{})
			called := make(chan struct{}, 8)
			done := make(chan error, 8)
			g := newGateway(t, gatewayConfig{revokeTokens: true, wrapProvider: func(p proxy.Provider) proxy.Provider {
				return &heldRevoke{Provider: p, called: called, release: release, done: done}
			}})
			u := providertest.DefaultUsers(tc.kind)[0]
			browsers := []*browser{newBrowser(t)}
			if tc.everywhere {
				browsers = append(browsers, newBrowser(t))
			}
			for _, b := range browsers {
				g.login(b, tc.kind, u.ID, g.URL+"/app/")
			}
			list, err := g.store.ListUser(context.Background(), tc.kind+":"+u.ID)
			if err != nil || len(list) != len(browsers) {
				t.Fatalf("sessions before sign-out: %d (err %v), want %d", len(list), err, len(browsers))
			}

			// Sign-out answers while every revocation is still held.
			signOut(t, g, browsers[0], tc.everywhere)
			for range browsers {
				select {
				case <-called:
				case <-time.After(10 * time.Second):
					t.Fatal("no revocation started after sign-out")
				}
			}
			close(release)

			// Wait for each revocation to come back from the provider
			// (the bound only catches a hang), then look at what it saw.
			for range browsers {
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("revocation: %v", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("a released revocation never finished")
				}
			}
			revoked := g.fakes[tc.kind].RevokedTokens()
			for i, s := range list {
				if !slices.Contains(revoked, s.AccessToken) && !slices.Contains(revoked, s.RefreshToken) {
					t.Errorf("session %d of %d: tokens not revoked at the provider", i+1, len(list))
				}
			}
			assertNoSecretsLogged(t, g)
		})
	}
}
