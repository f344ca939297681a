package session

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

// forgeAt signs value with date as given, in securecookie's format, so that
// the verifier meets signed cookies no writer would make.
func forgeAt(secret []byte, name, date string, value []byte) string {
	key, err := hkdf.Key(sha256.New, secret, nil, cookieInfo, 32)
	if err != nil {
		panic(err)
	}
	b := name + "|" + date + "|" + base64.URLEncoding.EncodeToString(value) + "|"
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(b[:len(b)-1]))
	return base64.URLEncoding.EncodeToString(append([]byte(b[len(name)+1:]), mac.Sum(nil)...))
}

// FuzzSessionVerifier holds the fast verifier to securecookie's answers,
// for unsigned garbage (raw) and for correctly signed values with any date
// and payload.
func FuzzSessionVerifier(f *testing.F) {
	c := newTestCookies(f, CookieOptions{PreviousSecrets: [][]byte{otherSecret}})
	name := c.SessionName()
	now := strconv.FormatInt(time.Now().Unix(), 10)
	w := httptest.NewRecorder()
	c.WriteSession(w, testID)
	written := w.Result().Cookies()[0].Value
	for _, seed := range []struct {
		date  string
		value []byte
		raw   bool
	}{
		{now, []byte(testID), false},
		{written, nil, true},
		{"00000000000000000000" + now, []byte(testID), false},
		{"+" + now, []byte(testID), false},
		{"-9223372036854775808", []byte(testID), false},
		{"9223372036854775808", []byte(testID), false},
		{"", []byte(testID), false},
		{now, nil, false},
		{now, []byte("a|b|c"), false},
		{"1|2", []byte(testID), false},
		{"%%%|||", nil, true},
	} {
		f.Add(seed.date, seed.value, seed.raw)
	}
	f.Fuzz(func(t *testing.T, date string, value []byte, raw bool) {
		cookie := date
		if !raw {
			cookie = forgeAt(testSecret, name, date, value)
		}
		before := time.Now().Unix()
		var want []byte
		err := securecookie.DecodeMulti(name, cookie, &want, c.session...)
		got, ok := c.verify.verify(cookie, before)
		if time.Now().Unix() != before {
			t.Skip("the second changed between the two checks")
		}
		wantOK := err == nil && len(want) > 0
		if ok != wantOK || (ok && got != string(want)) {
			t.Errorf("verify(%q): got %q, %v; securecookie: %q, %v", cookie, got, ok, want, err)
		}
	})
}

func TestParseUnix(t *testing.T) {
	tests := []string{"0", "1700000000", "-1", "+5", "007", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "-9223372036854775809", "", "-", "+", "1a", " 1", "1_000", "99999999999999999999"}
	for _, s := range tests {
		want, err := strconv.ParseInt(s, 10, 64)
		got, ok := parseUnix([]byte(s))
		if ok != (err == nil) || (ok && got != want) {
			t.Errorf("parseUnix(%q): got %d, %v; want %d, %v (strconv: %v)", s, got, ok, want, err == nil, err)
		}
	}
}
