package providers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/providers/providertest"
)

// startLogoutIssuer starts an OIDC fake with end-session and back-channel
// logout, and a Provider that finds both by discovery from the issuer
// alone. now is the clock of both.
func startLogoutIssuer(t *testing.T, now func() time.Time) (*providertest.Fake, *providers.Provider) {
	t.Helper()
	f, err := providertest.Start(providertest.Google, providertest.Options{ClientID: clientID,
		ClientSecret: clientSecret, Logout: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	p, err := providers.New(providers.Options{Name: "google", ClientID: clientID, ClientSecret: clientSecret,
		RedirectURL: "http://127.0.0.1:4180/oauth2/callback/google",
		Endpoints:   providers.Endpoints{Issuer: f.URL()}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return f, p
}

func TestLogoutURL(t *testing.T) {
	ctx := context.Background()
	back := "http://127.0.0.1:4180/oauth2/signed_out"
	oidcFake, oidcProv := startLogoutIssuer(t, nil)
	kakaoFake, kakao := setup(t, "kakao", func(o *providers.Options) {
		o.ClientSecret = ""
		o.Endpoints.EndSessionURL = strings.TrimSuffix(o.Endpoints.AuthURL, "/authorize") + "/logout"
	})
	_ = kakaoFake
	_, google := setup(t, "google", func(o *providers.Options) {
		// Discovery only, like the real Google: no end_session_endpoint.
		o.Endpoints = providers.Endpoints{Issuer: o.Endpoints.Issuer}
	})
	_, naver := setup(t, "naver", nil)
	// A real id_token for the hint: the fake's end-session page checks it.
	a := oidcProv.NewAuthRequest()
	q := authorize(t, oidcFake, oidcProv, providertest.DefaultUsers(providertest.Google)[0].ID, a)
	_, tok, err := oidcProv.Exchange(ctx, q.Get("code"), a)
	if err != nil || tok.IDToken == "" {
		t.Fatalf("exchange: %v (id_token %t)", err, tok.IDToken != "")
	}

	for _, tc := range []struct {
		name   string
		p      *providers.Provider
		hint   string
		prefix string
		want   url.Values
	}{
		{"oidc with hint", oidcProv, tok.IDToken, oidcFake.URL() + "/logout?",
			url.Values{"client_id": {clientID}, "post_logout_redirect_uri": {back}, "id_token_hint": {tok.IDToken}, "state": {"st"}}},
		{"oidc without hint", oidcProv, "", oidcFake.URL() + "/logout?",
			url.Values{"client_id": {clientID}, "post_logout_redirect_uri": {back}, "state": {"st"}}},
		{"kakao account logout", kakao, "ignored.id.token", kakaoFake.URL() + "/oauth/logout?",
			url.Values{"client_id": {clientID}, "logout_redirect_uri": {back}, "state": {"st"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.p.LogoutURL(ctx, providers.LogoutRequest{IDTokenHint: tc.hint, PostLogoutRedirectURI: back, State: "st"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got, tc.prefix) {
				t.Fatalf("LogoutURL = %q, want it to start with %q", got, tc.prefix)
			}
			u, _ := url.Parse(got)
			if u.Query().Encode() != tc.want.Encode() {
				t.Errorf("query = %v, want %v", u.Query(), tc.want)
			}
			// The fake's end-session page sends the browser back with state.
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.Get(got)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != back+"?state=st" {
				t.Errorf("end-session answered %d → %q, want 302 → %s?state=st", resp.StatusCode, loc, back)
			}
		})
	}
	for name, p := range map[string]*providers.Provider{"google (none advertised)": google, "naver (no logout)": naver} {
		if _, err := p.LogoutURL(ctx, providers.LogoutRequest{PostLogoutRedirectURI: back}); !errors.Is(err, providers.ErrNoLogout) {
			t.Errorf("%s: LogoutURL error %v, want ErrNoLogout", name, err)
		}
	}
}

// TestVerifyLogoutToken: a good token (sub, sid, both) passes; a bad one
// in each way Back-Channel Logout 1.0 names is refused.
func TestVerifyLogoutToken(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	f, p := startLogoutIssuer(t, clock)
	other, err := providertest.Start(providertest.Google, providertest.Options{ClientID: clientID, ClientSecret: clientSecret, Logout: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	ctx := context.Background()
	mk := func(fk *providertest.Fake, o providertest.LogoutTokenOptions) string {
		tok, err := fk.LogoutToken(o)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, tc := range []struct {
		name   string
		tok    string
		ok     bool
		sub    string
		sid    string
		badWhy string
	}{
		{name: "sub", tok: mk(f, providertest.LogoutTokenOptions{Subject: "u1"}), ok: true, sub: "u1"},
		{name: "sid", tok: mk(f, providertest.LogoutTokenOptions{SID: "s1"}), ok: true, sid: "s1"},
		{name: "sub and sid", tok: mk(f, providertest.LogoutTokenOptions{Subject: "u1", SID: "s1"}), ok: true, sub: "u1", sid: "s1"},
		{name: "unsigned", tok: mk(f, providertest.LogoutTokenOptions{Subject: "u1", Unsigned: true})},
		{name: "wrong audience", tok: mk(f, providertest.LogoutTokenOptions{Subject: "u1", Audience: "someone-else"})},
		{name: "other issuer", tok: mk(other, providertest.LogoutTokenOptions{Subject: "u1"})},
		{name: "no events claim", tok: mk(f, providertest.LogoutTokenOptions{Subject: "u1", NoEvents: true})},
		{name: "a nonce", tok: mk(f, providertest.LogoutTokenOptions{Subject: "u1", Nonce: "n"})},
		{name: "expired", tok: mk(f, providertest.LogoutTokenOptions{Subject: "u1", IssuedAt: now.Add(-3 * time.Minute), Expiry: now.Add(-time.Second)})},
		{name: "issued long ago", tok: mk(f, providertest.LogoutTokenOptions{Subject: "u1", IssuedAt: now.Add(-time.Hour), Expiry: now.Add(time.Hour)})},
		{name: "issued in the future", tok: mk(f, providertest.LogoutTokenOptions{Subject: "u1", IssuedAt: now.Add(time.Hour), Expiry: now.Add(2 * time.Hour)})},
		{name: "neither sub nor sid", tok: mk(f, providertest.LogoutTokenOptions{})},
		{name: "garbage", tok: "not-a-jwt"},
		{name: "empty", tok: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lt, err := p.VerifyLogoutToken(ctx, tc.tok)
			if !tc.ok {
				if !errors.Is(err, providers.ErrBadLogoutToken) {
					t.Fatalf("error %v, want ErrBadLogoutToken", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if lt.Subject != tc.sub || lt.SessionID != tc.sid || lt.JTI == "" || lt.Issuer != f.URL() {
				t.Errorf("got %+v, want sub %q sid %q, a jti, iss %s", lt, tc.sub, tc.sid, f.URL())
			}
			if lt.RememberUntil.Before(now.Add(time.Minute)) || lt.RememberUntil.After(now.Add(providers.LogoutTokenMaxAge+3*time.Minute)) {
				t.Errorf("RememberUntil %v: want after the token's exp and bounded by the max age", lt.RememberUntil.Sub(now))
			}
		})
	}
	// A provider that is not OpenID Connect takes no logout tokens.
	_, naver := setup(t, "naver", nil)
	if _, err := naver.VerifyLogoutToken(ctx, mk(f, providertest.LogoutTokenOptions{Subject: "u1"})); !errors.Is(err, providers.ErrBadLogoutToken) {
		t.Errorf("naver: %v, want ErrBadLogoutToken", err)
	}
}

// TestIDTokenCarriesSID: the issuer's sid reaches the Identity, so a
// logout token naming it can end exactly that session.
func TestIDTokenCarriesSID(t *testing.T) {
	f, p := startLogoutIssuer(t, nil)
	u := providertest.DefaultUsers(providertest.Google)[0]
	a := p.NewAuthRequest()
	q := authorize(t, f, p, u.ID, a)
	id, _, err := p.Exchange(context.Background(), q.Get("code"), a)
	if err != nil {
		t.Fatal(err)
	}
	sids := f.SessionIDs(u.ID)
	if len(sids) != 1 || id.SID != sids[0] {
		t.Errorf("Identity.SessionID = %q, fake issued %v", id.SID, sids)
	}
}

func TestVerifyUnlink(t *testing.T) {
	_, kakao := setup(t, "kakao", func(o *providers.Options) { o.ClientSecret = ""; o.AdminKey = "admin-key-1" })
	_, noKey := setup(t, "kakao", func(o *providers.Options) { o.ClientSecret = "" })
	good := url.Values{"app_id": {"1234567"}, "user_id": {"9007199254740993"}, "referrer_type": {"UNLINK_FROM_APPS"}}
	with := func(k, v string) url.Values {
		c := url.Values{}
		for kk, vv := range good {
			c[kk] = vv
		}
		if v == "" {
			delete(c, k)
		} else {
			c.Set(k, v)
		}
		return c
	}
	for _, tc := range []struct {
		name string
		p    *providers.Provider
		auth string
		form url.Values
		want error
	}{
		{"good", kakao, "KakaoAK admin-key-1", good, nil},
		{"scheme case", kakao, "kakaoak admin-key-1", good, nil},
		{"wrong key", kakao, "KakaoAK admin-key-2", good, providers.ErrUnlinkUnauthorized},
		{"key prefix", kakao, "KakaoAK admin-key-", good, providers.ErrUnlinkUnauthorized},
		{"bearer", kakao, "Bearer admin-key-1", good, providers.ErrUnlinkUnauthorized},
		{"no header", kakao, "", good, providers.ErrUnlinkUnauthorized},
		{"no admin key configured", noKey, "KakaoAK ", good, providers.ErrUnlinkUnauthorized},
		{"no user_id", kakao, "KakaoAK admin-key-1", with("user_id", ""), providers.ErrBadUnlink},
		{"user_id not a number", kakao, "KakaoAK admin-key-1", with("user_id", "12a"), providers.ErrBadUnlink},
		{"user_id leading zero", kakao, "KakaoAK admin-key-1", with("user_id", "0123"), providers.ErrBadUnlink},
		{"user_id above int64", kakao, "KakaoAK admin-key-1", with("user_id", "9223372036854775808"), providers.ErrBadUnlink},
		{"two user_ids", kakao, "KakaoAK admin-key-1", url.Values{"app_id": {"1"}, "user_id": {"1", "2"}, "referrer_type": {"X"}}, providers.ErrBadUnlink},
		{"bad app_id", kakao, "KakaoAK admin-key-1", with("app_id", "x1"), providers.ErrBadUnlink},
		{"bad referrer", kakao, "KakaoAK admin-key-1", with("referrer_type", "unlink<script>"), providers.ErrBadUnlink},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := tc.p.VerifyUnlink(tc.auth, tc.form)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if tc.want == nil && (u.Subject != "9007199254740993" || u.AppID != "1234567" || u.ReferrerType != "UNLINK_FROM_APPS") {
				t.Errorf("got %+v", u)
			}
		})
	}
}

// TestWantsIDTokenHint: a session keeps its id_token only where sign-out
// sends it back as id_token_hint, an OpenID Connect provider with logout;
// never for Kakao, whose account logout takes none, even in its OIDC mode.
func TestWantsIDTokenHint(t *testing.T) {
	logout := func(o *providers.Options) { o.Logout = true }
	for _, tc := range []struct {
		kind string
		opt  func(*providers.Options)
		want bool
	}{
		{"google", logout, true},
		{"google", nil, false},
		{"kakao", logout, false},
		{"kakao", func(o *providers.Options) { o.Logout, o.OIDC = true, true }, false},
		{"naver", logout, false},
	} {
		_, p := setup(t, tc.kind, tc.opt)
		if got := p.WantsIDTokenHint(); got != tc.want {
			t.Errorf("%s (logout %t, oidc %t): WantsIDTokenHint = %t, want %t", tc.kind, p.LogoutEnabled(), p.IsOIDC(), got, tc.want)
		}
	}
}
