package session

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

const testID = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"

func newTestCookies(t testing.TB, o CookieOptions) *Cookies {
	t.Helper()
	if o.Secret == nil {
		o.Secret = testSecret
	}
	c, err := NewCookies(o)
	if err != nil {
		t.Fatalf("NewCookies: %v", err)
	}
	return c
}

// setCookie returns the one cookie w set.
func setCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	cs := w.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("got %d Set-Cookie headers, want 1", len(cs))
	}
	return cs[0]
}

func requestWith(cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

// forge signs value the way securecookie does, with any timestamp, so tests
// can make expired cookies without waiting.
func forge(secret []byte, name string, value []byte, ts time.Time) string {
	key, err := hkdf.Key(sha256.New, secret, nil, cookieInfo, 32)
	if err != nil {
		panic(err)
	}
	b := fmt.Sprintf("%s|%d|%s|", name, ts.Unix(), base64.URLEncoding.EncodeToString(value))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(b[:len(b)-1]))
	out := append([]byte(b[len(name)+1:]), mac.Sum(nil)...)
	return base64.URLEncoding.EncodeToString(out)
}

func TestCookieNames(t *testing.T) {
	for _, tc := range []struct {
		o                    CookieOptions
		wantSession, wantLog string
	}{
		{CookieOptions{}, "_socialgate", "_socialgate_login"},
		{CookieOptions{Secure: true}, "__Host-_socialgate", "__Host-_socialgate_login"},
		{CookieOptions{Secure: true, Domain: ".example.com"}, "_socialgate", "_socialgate_login"},
		{CookieOptions{Name: "gate", Domain: ".example.com"}, "gate", "gate_login"},
	} {
		c := newTestCookies(t, tc.o)
		if got := c.SessionName(); got != tc.wantSession {
			t.Errorf("%+v SessionName: got %q, want %q", tc.o, got, tc.wantSession)
		}
		if got := c.LoginName(); got != tc.wantLog {
			t.Errorf("%+v LoginName: got %q, want %q", tc.o, got, tc.wantLog)
		}
	}
}

func TestIsGatewayCookie(t *testing.T) {
	c := newTestCookies(t, CookieOptions{Secure: true})
	for name, want := range map[string]bool{
		"_socialgate": true, "__Host-_socialgate": true, "__host-_SocialGate": true, "__Secure-_socialgate": true,
		"_socialgate_login": true, "__Host-_socialgate_login": true,
		"_socialgate2": false, "JSESSIONID": false, "PHPSESSID": false, "__Host-": false, "": false, "x_socialgate": false,
	} {
		if got := c.IsGatewayCookie(name); got != want {
			t.Errorf("IsGatewayCookie(%q): got %v, want %v", name, got, want)
		}
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		o          CookieOptions
		wantSame   http.SameSite
		wantMaxAge int
	}{
		{CookieOptions{}, http.SameSiteLaxMode, 0},
		{CookieOptions{Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: 168 * time.Hour}, http.SameSiteStrictMode, 168 * 3600},
		{CookieOptions{Secure: true, Domain: "example.com", SameSite: http.SameSiteNoneMode}, http.SameSiteNoneMode, 0},
	} {
		c := newTestCookies(t, tc.o)
		w := httptest.NewRecorder()
		c.WriteSession(w, testID)
		ck := setCookie(t, w)
		if ck.Name != c.SessionName() || ck.Path != "/" || !ck.HttpOnly || ck.Secure != tc.o.Secure ||
			ck.SameSite != tc.wantSame || ck.MaxAge != tc.wantMaxAge || ck.Domain != tc.o.Domain {
			t.Errorf("%+v: got %+v, want Path / HttpOnly Secure=%v SameSite=%v MaxAge=%d", tc.o, ck, tc.o.Secure, tc.wantSame, tc.wantMaxAge)
		}
		if id, ok := c.ReadSession(requestWith(ck)); !ok || id != testID {
			t.Errorf("%+v ReadSession: got %q, %v; want %q, true", tc.o, id, ok, testID)
		}

		w = httptest.NewRecorder()
		c.writeLogin(w, []string{"s1"})
		wantLoginSame := tc.wantSame
		if wantLoginSame == http.SameSiteStrictMode {
			wantLoginSame = http.SameSiteLaxMode // see TestLoginCookieNeverStrict
		}
		if ck := setCookie(t, w); ck.Name != c.LoginName() || ck.MaxAge != 600 || !ck.HttpOnly || ck.SameSite != wantLoginSame || ck.Secure != tc.o.Secure {
			t.Errorf("%+v login cookie: got %+v, want HttpOnly Max-Age 600", tc.o, ck)
		}
		clearLogin := func(w http.ResponseWriter) { c.writeLogin(w, nil) }
		for _, clear := range []func(http.ResponseWriter){c.ClearSession, clearLogin} {
			w = httptest.NewRecorder()
			clear(w)
			if ck := setCookie(t, w); ck.MaxAge != -1 || ck.Value != "" || ck.Path != "/" || ck.Domain != tc.o.Domain {
				t.Errorf("%+v clear: got %+v, want an expired empty cookie", tc.o, ck)
			}
		}
	}
}

func TestReadSessionRejects(t *testing.T) {
	c := newTestCookies(t, CookieOptions{})
	w := httptest.NewRecorder()
	c.WriteSession(w, testID)
	good := setCookie(t, w).Value
	name := c.SessionName()
	now := time.Now()
	// forge must match the real format, or the forged cases prove nothing.
	if _, ok := c.ReadSession(requestWith(&http.Cookie{Name: name, Value: forge(testSecret, name, []byte(testID), now)})); !ok {
		t.Fatal("a freshly forged cookie with the right key does not verify")
	}
	mid := len(good) / 2
	for _, tc := range []struct{ name, cookie, value string }{
		{"empty", name, ""},
		{"tampered", name, good[:mid] + string(good[mid]^1) + good[mid+1:]},
		{"truncated", name, good[:len(good)-4]},
		{"oversized", name, forge(testSecret, name, []byte(strings.Repeat("a", 3100)), now)},
		{"expired", name, forge(testSecret, name, []byte(testID), now.Add(-31*24*time.Hour))},
		{"wrong key", name, forge(otherSecret, name, []byte(testID), now)},
		{"other cookie's value", name, forge(testSecret, c.LoginName(), []byte(testID), now)},
		{"wrong name", "_other", good},
		{"garbage", name, "%%%|||"},
	} {
		if id, ok := c.ReadSession(requestWith(&http.Cookie{Name: tc.cookie, Value: tc.value})); ok {
			t.Errorf("%s: got %q, true; want rejected", tc.name, id)
		}
	}
}

func TestSessionCookieMaxAge(t *testing.T) {
	c := newTestCookies(t, CookieOptions{MaxAge: time.Hour})
	name := c.SessionName()
	for _, tc := range []struct {
		age  time.Duration
		want bool
	}{{59 * time.Minute, true}, {61 * time.Minute, false}} {
		v := forge(testSecret, name, []byte(testID), time.Now().Add(-tc.age))
		if _, ok := c.ReadSession(requestWith(&http.Cookie{Name: name, Value: v})); ok != tc.want {
			t.Errorf("signed %v ago: got ok %v, want %v", tc.age, ok, tc.want)
		}
	}
}

// TestSessionCookieOnClock: the session cookie is signed and checked on the
// injected clock, and what it writes is securecookie's format.
func TestSessionCookieOnClock(t *testing.T) {
	clk := newClock()
	c := newTestCookies(t, CookieOptions{MaxAge: time.Hour, Now: clk.Now})
	w := httptest.NewRecorder()
	c.WriteSession(w, testID)
	ck := setCookie(t, w)
	var raw []byte
	ref := securecookie.New(mustKey(t, testSecret), nil).SetSerializer(securecookie.NopEncoder{}).MaxAge(0)
	if err := ref.Decode(c.SessionName(), ck.Value, &raw); err != nil || string(raw) != testID {
		t.Fatalf("securecookie reads the written cookie as %q, %v; want %q", raw, err, testID)
	}
	if want := forge(testSecret, c.SessionName(), []byte(testID), clk.Now()); ck.Value != want {
		t.Errorf("written cookie %q, want the one signed at the clock's time %q", ck.Value, want)
	}
	for _, tc := range []struct {
		advance time.Duration
		want    bool
	}{{59 * time.Minute, true}, {2 * time.Minute, false}} {
		clk.Advance(tc.advance)
		if _, ok := c.ReadSession(requestWith(ck)); ok != tc.want {
			t.Errorf("clock at +%v: got ok %v, want %v", clk.Now().Sub(newClock().Now()), ok, tc.want)
		}
	}
}

func mustKey(t *testing.T, secret []byte) []byte {
	t.Helper()
	key, err := hkdf.Key(sha256.New, secret, nil, cookieInfo, 32)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestCookieKeyRotation(t *testing.T) {
	old := newTestCookies(t, CookieOptions{Secret: testSecret})
	w := httptest.NewRecorder()
	old.WriteSession(w, testID)
	ck := setCookie(t, w)

	rotated := newTestCookies(t, CookieOptions{Secret: otherSecret, PreviousSecrets: [][]byte{testSecret}})
	if id, ok := rotated.ReadSession(requestWith(ck)); !ok || id != testID {
		t.Errorf("previous secret: got %q, %v; want %q, true", id, ok, testID)
	}
	dropped := newTestCookies(t, CookieOptions{Secret: otherSecret})
	if _, ok := dropped.ReadSession(requestWith(ck)); ok {
		t.Error("a cookie signed with a dropped secret verified")
	}
	w = httptest.NewRecorder()
	rotated.WriteSession(w, testID)
	if _, ok := old.ReadSession(requestWith(setCookie(t, w))); ok {
		t.Error("rotated Cookies signed with a previous secret, want the current one")
	}
}

func TestReadSessionSeveralCookies(t *testing.T) {
	c := newTestCookies(t, CookieOptions{})
	name := c.SessionName()
	now := time.Now()
	tossed := &http.Cookie{Name: name, Value: forge(otherSecret, name, []byte("attacker"), now)}
	mine := &http.Cookie{Name: name, Value: forge(testSecret, name, []byte(testID), now)}
	second := &http.Cookie{Name: name, Value: forge(testSecret, name, []byte("second"), now)}
	for _, tc := range []struct {
		name    string
		cookies []*http.Cookie
		want    string
	}{
		{"tossed first", []*http.Cookie{tossed, mine}, testID},
		{"tossed last", []*http.Cookie{mine, tossed}, testID},
		{"two valid", []*http.Cookie{mine, second}, testID},
	} {
		if id, ok := c.ReadSession(requestWith(tc.cookies...)); !ok || id != tc.want {
			t.Errorf("%s: got %q, %v; want %q, true", tc.name, id, ok, tc.want)
		}
	}
}

// forgeLogin signs a login cookie value as gorilla/sessions' CookieStore
// does (gob of the values map, then securecookie), at ts.
func forgeLogin(secret []byte, name string, states []string, ts time.Time) string {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(map[any]any{statesKey: states}); err != nil {
		panic(err)
	}
	return forge(secret, name, buf.Bytes(), ts)
}

func TestLoginCookie(t *testing.T) {
	c := newTestCookies(t, CookieOptions{Secure: true})
	w := httptest.NewRecorder()
	states := []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7"}
	c.writeLogin(w, states)
	got := c.readLogin(requestWith(setCookie(t, w)))
	if want := states[2:]; !slices.Equal(got, want) {
		t.Errorf("readLogin: got %q, want the newest %d %q", got, MaxPendingLogins, want)
	}

	name := c.LoginName()
	if got := c.readLogin(requestWith(&http.Cookie{Name: name, Value: forgeLogin(testSecret, name, []string{"s1"}, time.Now())})); !slices.Equal(got, []string{"s1"}) {
		t.Fatalf("forgeLogin does not match the real format: read %q", got)
	}
	for _, tc := range []struct {
		name  string
		value string
		want  []string
	}{
		{"9 minutes old", forgeLogin(testSecret, name, []string{"s1"}, time.Now().Add(-9*time.Minute)), []string{"s1"}},
		{"11 minutes old", forgeLogin(testSecret, name, []string{"s1"}, time.Now().Add(-11*time.Minute)), nil},
		{"wrong key", forgeLogin(otherSecret, name, []string{"s1"}, time.Now()), nil},
		{"session cookie value", forgeLogin(testSecret, c.SessionName(), []string{"s1"}, time.Now()), nil},
		{"not gob", forge(testSecret, name, []byte(`["s1"]`), time.Now()), nil},
		{"garbage", "%%%|||", nil},
	} {
		if got := c.readLogin(requestWith(&http.Cookie{Name: name, Value: tc.value})); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}

	w = httptest.NewRecorder()
	c.writeLogin(w, nil)
	if ck := setCookie(t, w); ck.MaxAge != -1 {
		t.Errorf("writeLogin(nil): got Max-Age %d, want a cleared cookie", ck.MaxAge)
	}
}

// TestLoginCookieRotationAndTossing: previous secrets still verify the
// login cookie (gorilla/sessions' codec list), and a cookie tossed in
// front of the real one from a sibling subdomain does not hide it.
func TestLoginCookieRotationAndTossing(t *testing.T) {
	old := newTestCookies(t, CookieOptions{Secret: testSecret})
	w := httptest.NewRecorder()
	old.writeLogin(w, []string{"s1"})
	ck := setCookie(t, w)
	rotated := newTestCookies(t, CookieOptions{Secret: otherSecret, PreviousSecrets: [][]byte{testSecret}})
	if got := rotated.readLogin(requestWith(ck)); !slices.Equal(got, []string{"s1"}) {
		t.Errorf("previous secret: got %q, want [s1]", got)
	}
	if got := newTestCookies(t, CookieOptions{Secret: otherSecret}).readLogin(requestWith(ck)); got != nil {
		t.Errorf("dropped secret: got %q, want nil", got)
	}
	tossed := &http.Cookie{Name: ck.Name, Value: forgeLogin(otherSecret, ck.Name, []string{"attacker"}, time.Now())}
	if got := old.readLogin(requestWith(tossed, ck)); !slices.Equal(got, []string{"s1"}) {
		t.Errorf("tossed cookie first: got %q, want [s1]", got)
	}
}

func TestNewCookiesChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    CookieOptions
	}{
		{"no secret", CookieOptions{}},
		{"short secret", CookieOptions{Secret: []byte("short")}},
		{"short previous", CookieOptions{Secret: testSecret, PreviousSecrets: [][]byte{[]byte("x")}}},
		{"bad name", CookieOptions{Secret: testSecret, Name: "a b;"}},
		{"prefixed name", CookieOptions{Secret: testSecret, Name: "__Host-gate"}},
		{"none without secure", CookieOptions{Secret: testSecret, SameSite: http.SameSiteNoneMode}},
		{"negative max age", CookieOptions{Secret: testSecret, MaxAge: -time.Second}},
		{"sub-second max age", CookieOptions{Secret: testSecret, MaxAge: time.Millisecond}},
	} {
		if _, err := NewCookies(tc.o); err == nil {
			t.Errorf("%s: got nil error, want one", tc.name)
		}
	}
}

func FuzzReadSession(f *testing.F) {
	c := newTestCookies(f, CookieOptions{})
	name := c.SessionName()
	valid := forge(testSecret, name, []byte(testID), time.Now())
	for _, seed := range []string{
		valid, valid[:len(valid)/2], valid + "A", "", "|", "MTIzfHh8eQ==", strings.Repeat("A", 5000),
		forge(otherSecret, name, []byte(testID), time.Now()),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, header := range []string{name + "=" + v, v, name + "=" + v + "; " + name + "=" + v} {
			r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
			r.Header.Set("Cookie", header)
			// Only the one ID ever signed may come out; anything else,
			// however mutated, must not verify.
			if id, ok := c.ReadSession(r); ok && id != testID {
				t.Errorf("ReadSession(%q): got %q, true; want false", header, id)
			}
			_ = c.readLogin(r)
		}
	})
}

// TestLoginCookieNeverStrict: with same_site strict for the session, the
// login cookie stays Lax, or the provider's redirect back could not carry
// it and no login would ever finish.
func TestLoginCookieNeverStrict(t *testing.T) {
	c, err := NewCookies(CookieOptions{Secret: []byte(strings.Repeat("k", 32)), SameSite: http.SameSiteStrictMode})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	c.writeLogin(rec, []string{"state"})
	c.WriteSession(rec, strings.Repeat("A", 43))
	for _, ck := range rec.Result().Cookies() {
		want := http.SameSiteStrictMode
		if ck.Name == c.LoginName() {
			want = http.SameSiteLaxMode
		}
		if ck.SameSite != want {
			t.Errorf("%s: SameSite = %v, want %v", ck.Name, ck.SameSite, want)
		}
	}
}
