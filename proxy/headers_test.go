package proxy

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/http/httpguts"
)

func TestStripIdentityHeaders(t *testing.T) {
	h := http.Header{}
	// Inserted directly, so non-canonical keys stay as spelled.
	for _, k := range []string{
		"X-Forwarded-User", "x_forwarded_user", "X-Forwarded-user", "X_FORWARDED_USER",
		"x-forwarded-user", "X-FORWARDED-EMAIL", "X-Forwarded-Email-Verified",
		"x_forwarded_email_verified", "X-Forwarded-Preferred-Username",
		"X_Forwarded-Preferred_Username", "X-Forwarded-Provider", "X-Forwarded-Access-Token",
		"x_forwarded_access_token", "X-Forwarded-Groups", "X-Auth-Request-User",
		"X-Auth_Request_User", "x-auth-request-email", "X-AUTH-REQUEST-ANYTHING-ELSE",
		"x_auth_request_", "X-Auth-Request-Redirect",
	} {
		h[k] = []string{"admin", "root"}
	}
	keep := []string{
		"X-Forwarded-Users", "X-Forwarded-Use", "X-Forwarded-Userx",
		"X-Auth-Requestx", "X-Auth-Request", "Authorization", "Cookie", "X-Request-Id",
		"X-Forwarded-Email-Verified-By", "Accept",
	}
	for _, k := range keep {
		h[k] = []string{"v"}
	}
	testStripper(t).strip(h)
	var got []string
	for k := range h {
		got = append(got, k)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(keep))
	if !slices.Equal(got, want) {
		t.Errorf("after strip, keys = %q, want %q", got, want)
	}
}

// TestStripIdentityHeadersFromWire goes through net/http's parser, which
// canonicalises what it can and keeps '_' spellings as distinct keys.
func TestStripIdentityHeadersFromWire(t *testing.T) {
	raw := "GET / HTTP/1.1\r\nHost: gate.example.com\r\n" +
		"X-Forwarded-User: a\r\nx-forwarded-user: b\r\nX_Forwarded_User: c\r\n" +
		"x-forwarded-EMAIL: d\r\nX-Auth-Request-User: e\r\nx_auth_request_email: f\r\n" +
		"X-Forwarded-Access-Token: g\r\nX-Keep: h\r\n\r\n"
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("ReadRequest: %v", err)
	}
	testStripper(t).strip(r.Header)
	if len(r.Header) != 1 || r.Header.Get("X-Keep") != "h" {
		t.Errorf("after strip, header = %v, want only X-Keep", r.Header)
	}
}

func TestStripForwarded(t *testing.T) {
	h := http.Header{}
	for _, k := range []string{
		"X-Forwarded-For", "x_forwarded_for", "X-FORWARDED-PROTO", "X-Forwarded-Host",
		"x-forwarded-uri", "Forwarded", "FORWARDED", "X-Real-Ip", "X_Original_URL",
		"X-Rewrite-Url", "X-Forwarded-Port", "X-Forwarded-Prefix",
	} {
		h[k] = []string{"1.2.3.4", "5.6.7.8"}
	}
	h["X-Forwarded-Fort"] = []string{"f"}
	testStripper(t).strip(h)
	if len(h) != 1 || h.Get("X-Forwarded-Fort") != "f" {
		t.Errorf("after strip, header = %v, want X-Forwarded-Fort", h)
	}
}

func TestParseHeaderEncoding(t *testing.T) {
	tests := []struct {
		in      string
		want    headerEncoding
		wantErr bool
	}{
		{"", encPercent, false},
		{"percent", encPercent, false},
		{"raw", encRaw, false},
		{"base64", encBase64, false},
		{"euc-kr", encEUCKR, false},
		{"EUC-KR", encEUCKR, false},
		{"utf-8", 0, true},
		{"euckr", 0, true},
		{"percent ", 0, true},
	}
	for _, tt := range tests {
		got, err := parseHeaderEncoding(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseHeaderEncoding(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, errHeaderEncoding) {
			t.Errorf("parseHeaderEncoding(%q) error %v, want errHeaderEncoding", tt.in, err)
		}
		if err == nil && tt.in != "" && got.String() != strings.ToLower(tt.in) {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), strings.ToLower(tt.in))
		}
	}
}

func TestEncode(t *testing.T) {
	const split = "홍\r\nX-Forwarded-User: admin"
	tests := []struct {
		enc  headerEncoding
		in   string
		want string
	}{
		{encPercent, "홍길동", "%ED%99%8D%EA%B8%B8%EB%8F%99"},
		{encPercent, "kakao:3456789012", "kakao:3456789012"},
		{encPercent, "홍gil동 Kim", "%ED%99%8Dgil%EB%8F%99 Kim"},
		{encPercent, "😀", "%F0%9F%98%80"},
		{encPercent, "100% 홍", "100%25 %ED%99%8D"},
		{encPercent, split, "%ED%99%8DX-Forwarded-User: admin"},
		{encPercent, "a\x00b\tc\x7fd\u0085e", "abcde"},
		{encPercent, "", ""},
		{encRaw, "홍길동", "홍길동"},
		{encRaw, "kakao:1", "kakao:1"},
		{encRaw, "😀 x", "😀 x"},
		{encRaw, split, "홍X-Forwarded-User: admin"},
		{encRaw, "a\x00b", "ab"},
		{encBase64, "홍길동", "7ZmN6ri464+Z"},
		{encBase64, "kakao:1", "a2FrYW86MQ=="},
		{encBase64, "홍gil동 Kim", "7ZmNZ2ls64+ZIEtpbQ=="},
		{encBase64, "😀", "8J+YgA=="},
		{encBase64, "a\r\nb", "YWI="},
		{encBase64, "", ""},
		{encEUCKR, "홍길동", "\xc8\xab\xb1\xe6\xb5\xbf"},
		{encEUCKR, "kakao:1", "kakao:1"},
		{encEUCKR, "김 Kim", "\xb1\xe8 Kim"},
		{encEUCKR, "漢", "\xf9\xd3"},
		{encEUCKR, "a😀b", "a?b"},
		{encEUCKR, "홍\r\n동", "\xc8\xab\xb5\xbf"},
	}
	for _, tt := range tests {
		if got := tt.enc.encode(tt.in); got != tt.want {
			t.Errorf("%v.encode(%q) = %q, want %q", tt.enc, tt.in, got, tt.want)
		}
	}
}

func TestEncodeDecodesBack(t *testing.T) {
	for _, in := range []string{"홍길동", "kakao:1", "홍gil동 Kim", "😀", "50%", "홍@예시.kr"} {
		if got, err := url.PathUnescape(encPercent.encode(in)); err != nil || got != in {
			t.Errorf("percent: %q decodes to %q, %v", in, got, err)
		}
		if got, err := base64.StdEncoding.DecodeString(encBase64.encode(in)); err != nil || string(got) != in {
			t.Errorf("base64: %q decodes to %q, %v", in, got, err)
		}
	}
}

// TestIdentityHeadersOnTheWire writes the headers of a hostile nickname
// the naive way, as any HTTP stack without Go's own CR/LF scrubbing would,
// and parses the result back: no header and no request may be split off.
func TestIdentityHeadersOnTheWire(t *testing.T) {
	for _, enc := range []headerEncoding{encPercent, encRaw, encBase64, encEUCKR} {
		h := http.Header{}
		id := identity{User: "kakao:1", Name: "홍\r\nX-Forwarded-User: admin\r\n\r\nGET /x HTTP/1.1\r\nHost: y", Provider: "kakao"}
		setIdentityHeaders(h, id, enc, false)
		var buf bytes.Buffer
		buf.WriteString("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
		for k, vv := range h {
			for _, v := range vv {
				buf.WriteString(k + ": " + v + "\r\n")
			}
		}
		buf.WriteString("\r\n")
		back, err := http.ReadRequest(bufio.NewReader(&buf))
		if err != nil {
			t.Fatalf("%v: ReadRequest: %v", enc, err)
		}
		if got := back.Header.Values("X-Forwarded-User"); !slices.Equal(got, []string{"kakao:1"}) {
			t.Errorf("%v: X-Forwarded-User = %q, want [kakao:1]", enc, got)
		}
		if buf.Len() != 0 {
			t.Errorf("%v: %d bytes left after the request: a second request was smuggled", enc, buf.Len())
		}
	}
}

func TestSetIdentityHeaders(t *testing.T) {
	id := identity{User: "naver:abc", Email: "홍@example.com", EmailVerified: true, Name: "홍길동", Provider: "naver", AccessToken: "tok+/="}
	h := http.Header{}
	setIdentityHeaders(h, id, encPercent, true)
	want := map[string]string{
		"X-Forwarded-User":               "naver:abc",
		"X-Forwarded-Email":              "%ED%99%8D@example.com",
		"X-Forwarded-Email-Verified":     "true",
		"X-Forwarded-Preferred-Username": "%ED%99%8D%EA%B8%B8%EB%8F%99",
		"X-Forwarded-Provider":           "naver",
		"X-Forwarded-Access-Token":       "tok+/=",
	}
	checkHeader(t, "full identity", h, want)

	// No e-mail, not verified, no token passed: stale values must go.
	h = http.Header{"X-Forwarded-Email": {"old"}, "X-Forwarded-Access-Token": {"old"}}
	setIdentityHeaders(h, identity{User: "kakao:1", Name: "", Provider: "kakao", AccessToken: "secret"}, encRaw, false)
	checkHeader(t, "no e-mail", h, map[string]string{
		"X-Forwarded-User":           "kakao:1",
		"X-Forwarded-Email-Verified": "false",
		"X-Forwarded-Provider":       "kakao",
	})
}

// TestSetIdentityHeadersBase64: the name is always base64, identifiers only
// when not ASCII (then they lack their ':' or '@', so an app can tell).
func TestSetIdentityHeadersBase64(t *testing.T) {
	tests := []struct {
		name string
		id   identity
		want map[string]string
	}{
		{"ascii", identity{User: "kakao:1", Email: "a@b.kr", EmailVerified: true, Name: "Kim", Provider: "kakao"}, map[string]string{
			"X-Forwarded-User":               "kakao:1",
			"X-Forwarded-Email":              "a@b.kr",
			"X-Forwarded-Email-Verified":     "true",
			"X-Forwarded-Preferred-Username": "S2lt",
			"X-Forwarded-Provider":           "kakao",
		}},
		{"hangul", identity{User: "oidc:홍", Email: "홍@예시.kr", Name: "홍길동", Provider: "kakao"}, map[string]string{
			"X-Forwarded-User":               "b2lkYzrtmY0=",
			"X-Forwarded-Email":              "7ZmNQOyYiOyLnC5rcg==",
			"X-Forwarded-Email-Verified":     "false",
			"X-Forwarded-Preferred-Username": "7ZmN6ri464+Z",
			"X-Forwarded-Provider":           "kakao",
		}},
	}
	for _, tt := range tests {
		h := http.Header{}
		setIdentityHeaders(h, tt.id, encBase64, false)
		checkHeader(t, tt.name, h, tt.want)
		if u := h.Get("X-Forwarded-User"); strings.Contains(tt.id.User, ":") && isASCII(tt.id.User) != strings.Contains(u, ":") {
			t.Errorf("%s: X-Forwarded-User %q: cannot tell plain from base64", tt.name, u)
		}
	}
}

func TestSetAuthRequestHeaders(t *testing.T) {
	h := http.Header{}
	setAuthRequestHeaders(h, identity{User: "google:110", Email: "a@b.kr", Name: "홍길동", Provider: "google", AccessToken: "t"}, encPercent)
	checkHeader(t, "auth request", h, map[string]string{
		"X-Auth-Request-User":               "google:110",
		"X-Auth-Request-Email":              "a@b.kr",
		"X-Auth-Request-Email-Verified":     "false",
		"X-Auth-Request-Preferred-Username": "%ED%99%8D%EA%B8%B8%EB%8F%99",
		"X-Auth-Request-Provider":           "google",
	})
}

func checkHeader(t *testing.T, name string, h http.Header, want map[string]string) {
	t.Helper()
	if len(h) != len(want) {
		t.Errorf("%s: got %d headers %v, want %d", name, len(h), h, len(want))
	}
	for k, v := range want {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s: %s = %q, want %q", name, k, got, v)
		}
	}
}

// normHeaderName is the test's own statement of the name rule.
func normHeaderName(k string) string {
	return strings.ReplaceAll(strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII {
			return unicode.ToLower(r)
		}
		return r
	}, k), "_", "-")
}

func FuzzStripIdentityHeaders(f *testing.F) {
	f.Add("X-Forwarded-User\nx_forwarded_user\nX-Auth_Request_User\nAccept")
	f.Add("X-FORWARDED-EMAIL\nx-auth-request-\nX-Forwarded-Email-Verified")
	f.Add("x_FORWARDED_access_TOKEN\nX-Forwarded-Userx")
	set := map[string]bool{}
	for _, n := range identityHeaderNames {
		set[n] = true
	}
	for _, n := range []string{"x-forwarded-user", "x-forwarded-email", "x-forwarded-email-verified",
		"x-forwarded-preferred-username", "x-forwarded-provider", "x-forwarded-access-token"} {
		if !set[n] {
			f.Fatalf("identityHeaderNames lacks %q", n)
		}
	}
	hs := testStripper(f)
	for _, n := range hs.exact {
		set[n] = true
	}
	stripped := func(nk string) bool {
		if set[nk] {
			return true
		}
		for _, p := range hs.prefixes {
			if strings.HasPrefix(nk, p) {
				return true
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, keys string) {
		h := http.Header{}
		for _, k := range strings.Split(keys, "\n") {
			h[k] = append(h[k], "admin")
		}
		n := len(h)
		hs.strip(h)
		removed := n - len(h)
		for k := range h {
			if stripped(normHeaderName(k)) {
				t.Fatalf("key %q survived strip", k)
			}
		}
		want := 0
		for k := range strings.SplitSeq(keys, "\n") {
			if stripped(normHeaderName(k)) {
				want++
			}
		}
		if removed > want {
			t.Fatalf("strip removed %d keys, at most %d match", removed, want)
		}
	})
}

func FuzzEncode(f *testing.F) {
	for _, s := range []string{"홍길동", "kakao:1", "a\r\nb", "100%", "=?x?=", "😀", "\x00", "\xff\xfe", "a\u2028b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		clean := !strings.ContainsFunc(in, unicode.IsControl)
		for _, enc := range []headerEncoding{encPercent, encRaw, encBase64, encEUCKR} {
			out := enc.encode(in)
			if strings.ContainsAny(out, "\r\n\x00") {
				t.Fatalf("%v.encode(%q) = %q holds CR, LF or NUL", enc, in, out)
			}
			if !httpguts.ValidHeaderFieldValue(out) {
				t.Fatalf("%v.encode(%q) = %q is not a valid header value", enc, in, out)
			}
			if !clean {
				continue
			}
			switch enc {
			case encPercent:
				if got, err := url.PathUnescape(out); err != nil || got != in {
					t.Fatalf("percent: %q → %q decodes to %q, %v", in, out, got, err)
				}
			case encBase64:
				if got, err := base64.StdEncoding.DecodeString(out); err != nil || string(got) != in {
					t.Fatalf("base64: %q → %q decodes to %q, %v", in, out, got, err)
				}
			}
		}
	})
}
