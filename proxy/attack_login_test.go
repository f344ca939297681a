package proxy_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/session"
)

// startLogin runs /oauth2/start for b and returns the provider's
// authorization URL (state, PKCE challenge, nonce, redirect_uri).
func (a *attackGateway) startLogin(t *testing.T, b *browser, kind string) *url.URL {
	t.Helper()
	resp := b.do(http.MethodGet, a.URL+"/oauth2/start/"+kind+"?rd=/private/x", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("start %s: status %d", kind, resp.StatusCode)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// signedIn reports whether b has a live session (userinfo answers 200).
func (a *attackGateway) signedIn(t *testing.T, b *browser) bool {
	t.Helper()
	resp := b.do(http.MethodGet, a.URL+"/oauth2/userinfo", nil)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestAttackLoginCSRF: a callback is accepted only with a state this
// browser started (login cookie), for this provider, once, within 10
// minutes. Anything else is a clear 400 page and no session.
func TestAttackLoginCSRF(t *testing.T) {
	user := providertest.DefaultUsers("kakao")[0].ID
	cases := []struct {
		name string
		// attack returns the browser to use and the callback URL it opens.
		attack func(t *testing.T, a *attackGateway) (*browser, string)
	}{
		{"state from another browser", func(t *testing.T, a *attackGateway) (*browser, string) {
			// The victim has a login of its own pending: a valid login
			// cookie, just not naming the attacker's state.
			victim := newBrowser(t)
			a.startLogin(t, victim, "kakao")
			return victim, a.callbackURL(newBrowser(t), "kakao", user, "/private/x")
		}},
		{"state for another provider", func(t *testing.T, a *attackGateway) (*browser, string) {
			b := newBrowser(t)
			cb := a.callbackURL(b, "google", providertest.DefaultUsers("google")[0].ID, "/private/x")
			return b, strings.Replace(cb, "/oauth2/callback/google", "/oauth2/callback/kakao", 1)
		}},
		{"no login cookie", func(t *testing.T, a *attackGateway) (*browser, string) {
			return newBrowser(t), a.callbackURL(newBrowser(t), "kakao", user, "/private/x")
		}},
		{"tampered login cookie", func(t *testing.T, a *attackGateway) (*browser, string) {
			b := newBrowser(t)
			cb := a.callbackURL(b, "kakao", user, "/private/x")
			gu, _ := url.Parse(a.URL)
			for _, c := range b.c.Jar.Cookies(gu) {
				if strings.HasSuffix(c.Name, "_login") {
					v := []byte(c.Value)
					v[len(v)/2] ^= 1
					b.c.Jar.SetCookies(gu, []*http.Cookie{{Name: c.Name, Value: string(v), Path: "/"}})
				}
			}
			return b, cb
		}},
		{"state used twice", func(t *testing.T, a *attackGateway) (*browser, string) {
			b := newBrowser(t)
			cb := a.callbackURL(b, "kakao", user, "/private/x")
			gu, _ := url.Parse(a.URL)
			saved := b.c.Jar.Cookies(gu) // the login cookie still naming the state
			first := b.do(http.MethodGet, cb, nil)
			first.Body.Close()
			if first.StatusCode != http.StatusFound {
				t.Fatalf("first callback: %d", first.StatusCode)
			}
			// Replay with the old login cookie, so only the store's
			// single use can refuse it.
			again := newBrowser(t)
			again.c.Jar.SetCookies(gu, saved)
			return again, cb
		}},
		{"state expired", func(t *testing.T, a *attackGateway) (*browser, string) {
			b := newBrowser(t)
			cb := a.callbackURL(b, "kakao", user, "/private/x")
			a.now.Advance(10*time.Minute + time.Second)
			return b, cb
		}},
		{"no state", func(t *testing.T, a *attackGateway) (*browser, string) {
			b := newBrowser(t)
			cb, _ := url.Parse(a.callbackURL(b, "kakao", user, "/private/x"))
			q := cb.Query()
			q.Del("state")
			cb.RawQuery = q.Encode()
			return b, cb.String()
		}},
		{"empty state", func(t *testing.T, a *attackGateway) (*browser, string) {
			b := newBrowser(t)
			cb, _ := url.Parse(a.callbackURL(b, "kakao", user, "/private/x"))
			q := cb.Query()
			q.Set("state", "")
			cb.RawQuery = q.Encode()
			return b, cb.String()
		}},
		{"guessed state", func(t *testing.T, a *attackGateway) (*browser, string) {
			b := newBrowser(t)
			cb, _ := url.Parse(a.callbackURL(b, "kakao", user, "/private/x"))
			q := cb.Query()
			q.Set("state", q.Get("state")[:20]+strings.Repeat("A", len(q.Get("state"))-20))
			cb.RawQuery = q.Encode()
			return b, cb.String()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newAttackGateway(t, gatewayConfig{})
			b, cb := tc.attack(t, a)
			b.lang = "en"
			resp := b.do(http.MethodGet, cb, nil)
			body := readAll(t, resp)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
			if !strings.Contains(body, "expired or was already used") {
				t.Errorf("the 400 page does not say what happened: %.300s", body)
			}
			for _, c := range resp.Cookies() {
				if c.Name == a.cookies.SessionName() && c.Value != "" {
					t.Errorf("a session cookie was set")
				}
			}
			if a.signedIn(t, b) {
				t.Errorf("the browser is signed in after a refused callback")
			}
		})
	}
}

// TestAttackCodeInjection: an attacker's authorization code (from the
// attacker's own login) pasted into the victim's callback with the
// victim's valid state must not sign the victim in: PKCE binds the code to
// the verifier the victim's login holds (Google, Kakao), and Naver checks
// the state at its token endpoint.
func TestAttackCodeInjection(t *testing.T) {
	for _, kind := range []string{"google", "naver", "kakao"} {
		t.Run(kind, func(t *testing.T) {
			a := newAttackGateway(t, gatewayConfig{})
			users := providertest.DefaultUsers(kind)
			attackerCB, _ := url.Parse(a.callbackURL(newBrowser(t), kind, users[1].ID, "/private/x"))
			victim := newBrowser(t)
			victimCB, _ := url.Parse(a.callbackURL(victim, kind, users[0].ID, "/private/x"))
			q := victimCB.Query()
			q.Set("code", attackerCB.Query().Get("code"))
			victimCB.RawQuery = q.Encode()
			resp := victim.do(http.MethodGet, victimCB.String(), nil)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusBadGateway {
				t.Errorf("injected code: status %d, want 400 or 502", resp.StatusCode)
			}
			if a.signedIn(t, victim) {
				t.Errorf("the victim is signed in with the attacker's code")
			}
		})
	}
}

// TestAttackPKCEAndNonce: S256 PKCE wherever the provider takes it, the
// verifier sent at the token endpoint matches, and OIDC logins carry a
// nonce. Naver takes no PKCE and is not OIDC (see docs/SECURITY.md).
func TestAttackPKCEAndNonce(t *testing.T) {
	for _, tc := range []struct {
		kind        string
		oidc        bool
		pkce, nonce bool
	}{
		{"google", false, true, true},
		{"kakao", false, true, false},
		{"kakao", true, true, true},
		{"naver", false, false, false},
	} {
		a := newAttackGateway(t, gatewayConfig{kakaoOIDC: tc.oidc})
		b := newBrowser(t)
		au := a.startLogin(t, b, tc.kind)
		q := au.Query()
		label := tc.kind
		if tc.oidc {
			label += " (oidc)"
		}
		if got := q.Get("code_challenge_method") == "S256" && len(q.Get("code_challenge")) == 43; got != tc.pkce {
			t.Errorf("%s: S256 challenge sent = %v, want %v (%q)", label, got, tc.pkce, q.Get("code_challenge_method"))
		}
		if got := len(q.Get("nonce")) >= 32; got != tc.nonce {
			t.Errorf("%s: nonce sent = %v, want %v", label, got, tc.nonce)
		}
		a.fakes[tc.kind].AutoApprove(providertest.DefaultUsers(tc.kind)[0].ID)
		resp := b.do(http.MethodGet, au.String(), nil)
		resp.Body.Close()
		resp = b.do(http.MethodGet, resp.Header.Get("Location"), nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("%s: callback status %d", label, resp.StatusCode)
		}
		if !tc.pkce {
			continue
		}
		var verifier string
		for _, r := range a.fakes[tc.kind].Requests() {
			if v := r.PostForm.Get("code_verifier"); v != "" {
				verifier = v
			}
		}
		sum := sha256.Sum256([]byte(verifier))
		if got := base64.RawURLEncoding.EncodeToString(sum[:]); got != q.Get("code_challenge") {
			t.Errorf("%s: the token request's code_verifier does not match the challenge", label)
		}
	}
}

// TestAttackNonceMismatch: an id_token minted for another nonce (a replayed
// or injected token) is refused; the same login with the right nonce works.
func TestAttackNonceMismatch(t *testing.T) {
	for _, kind := range []string{"google", "kakao"} {
		for _, nonce := range []string{"wrong", "right"} {
			a := newAttackGateway(t, gatewayConfig{kakaoOIDC: true})
			b := newBrowser(t)
			q := a.startLogin(t, b, kind).Query()
			n := q.Get("nonce")
			if nonce == "wrong" {
				n = "an-attacker-chosen-nonce-0123456789abcdef"
			}
			code := a.fakes[kind].IssueCode(providertest.DefaultUsers(kind)[0].ID, q.Get("redirect_uri"), providertest.AuthParams{
				Scope: q.Get("scope"), Nonce: n, CodeChallenge: q.Get("code_challenge"),
				CodeChallengeMethod: q.Get("code_challenge_method"), State: q.Get("state"),
			})
			cb := a.URL + "/oauth2/callback/" + kind + "?" + url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
			resp := b.do(http.MethodGet, cb, nil)
			resp.Body.Close()
			ok := resp.StatusCode == http.StatusFound && a.signedIn(t, b)
			if ok != (nonce == "right") {
				t.Errorf("%s with the %s nonce: status %d, signed in %v", kind, nonce, resp.StatusCode, ok)
			}
		}
	}
}

// TestAttackSessionFixation: a login always issues a new session ID, even
// when the browser arrives with a forged cookie or with a valid session
// planted by an attacker, and the planted session is deleted.
func TestAttackSessionFixation(t *testing.T) {
	a := newAttackGateway(t, gatewayConfig{})
	gu, _ := url.Parse(a.URL)
	name := a.cookies.SessionName()
	sessionID := func(cookie string) string {
		id, _ := a.cookies.ReadSession(&http.Request{Header: http.Header{"Cookie": {cookie}}})
		return id
	}

	attacker, planted := a.signIn(t, "kakao", providertest.DefaultUsers("kakao")[1].ID)
	plantedID := sessionID(planted)
	for _, tc := range []struct{ name, cookie string }{
		{"forged", name + "=attacker-chosen-session-id"},
		{"valid, the attacker's", planted},
	} {
		victim := newBrowser(t)
		v, _ := strings.CutPrefix(tc.cookie, name+"=")
		victim.c.Jar.SetCookies(gu, []*http.Cookie{{Name: name, Value: v, Path: "/"}})
		victimUser := providertest.DefaultUsers("google")[0]
		a.fakes["google"].AutoApprove(victimUser.ID)
		if resp, _ := victim.get(a.URL + "/oauth2/start/google?rd=/private/"); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: login status %d, hops %v", tc.name, resp.StatusCode, victim.hops)
		}
		got := sessionCookie(t, victim, a.gateway)
		if got == tc.cookie || sessionID(got) == "" || sessionID(got) == plantedID {
			t.Errorf("%s: the session cookie was not replaced by a new ID", tc.name)
		}
		if r := a.private.take(); len(r) == 0 || r[len(r)-1].Header.Get("X-Forwarded-User") != "google:"+victimUser.ID {
			t.Errorf("%s: the victim is not signed in as themselves", tc.name)
		}
	}
	if _, err := a.store.Load(context.Background(), plantedID); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("the planted session is still in the store: %v", err)
	}
	if a.signedIn(t, attacker) {
		t.Errorf("the attacker's planted session still works")
	}
}
