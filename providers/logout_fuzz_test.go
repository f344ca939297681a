package providers

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParseUnlink: whatever Kakao (or anyone) sends, the unlink parser
// never panics, never accepts a wrong key, and what it accepts is a
// canonical positive Kakao ID.
func FuzzParseUnlink(f *testing.F) {
	f.Add("KakaoAK k", "app_id=1&user_id=42&referrer_type=UNLINK_FROM_APPS")
	f.Add("KakaoAK k", "app_id=1&user_id=-1&referrer_type=X")
	f.Add("KakaoAK  k ", "app_id=&user_id=9223372036854775807&referrer_type=")
	f.Add("kakaoak k", "user_id=1&user_id=2")
	f.Fuzz(func(t *testing.T, auth, query string) {
		form, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		u, err := parseUnlink("k", auth, form)
		if err != nil {
			return
		}
		key := strings.TrimSpace(auth)
		if _, k, _ := strings.Cut(key, " "); strings.TrimSpace(k) != "k" {
			t.Fatalf("accepted key in %q", auth)
		}
		if u.Subject == "" || u.Subject[0] == '0' || u.Subject[0] == '-' || !allDigits(u.Subject) || !allDigits(u.AppID) {
			t.Fatalf("accepted %+v", u)
		}
	})
}

// FuzzLogoutClaims: the logout-token claim rules never panic, and nothing
// they accept lacks the event, a jti, sub or sid, or has a nonce.
func FuzzLogoutClaims(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add([]byte(`{"sub":"u","jti":"j","iat":1800000000,"events":{"http://schemas.openid.net/event/backchannel-logout":{}}}`))
	f.Add([]byte(`{"sid":"s","jti":"j","iat":1800000000.5,"events":{"http://schemas.openid.net/event/backchannel-logout":{}},"nonce":null}`))
	f.Add([]byte(`{"sub":"","jti":"j","iat":-1,"events":{"http://schemas.openid.net/event/backchannel-logout":[]}}`))
	f.Add([]byte(`{"sub":"u","jti":"j","iat":1e300,"events":{"http://schemas.openid.net/event/backchannel-logout":null}}`))
	p := &Provider{spec: &google, now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c logoutClaims
		if json.Unmarshal(b, &c) != nil {
			return
		}
		lt, err := p.checkLogoutClaims("iss", now.Add(time.Minute), c)
		if err != nil {
			return
		}
		if c.Nonce != nil || lt.JTI == "" || (lt.Subject == "" && lt.SessionID == "") || !isJSONObject(c.Events[BackchannelLogoutEvent]) {
			t.Fatalf("accepted %s as %+v", b, lt)
		}
		if lt.RememberUntil.After(now.Add(LogoutTokenMaxAge + 3*time.Minute)) {
			t.Fatalf("remember %v: unbounded", lt.RememberUntil.Sub(now))
		}
	})
}
