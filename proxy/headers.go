package proxy

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"
)

// identityHeaderNames are the headers the gateway sets; client copies are
// always removed. Lowercase, '-' separated: the form headerKeyIs compares
// against. X-Forwarded-Groups is never set by socialgate but is trusted by
// apps that used to sit behind oauth2-proxy, so a client must not send it.
var identityHeaderNames = []string{
	"x-forwarded-user",
	"x-forwarded-email",
	"x-forwarded-email-verified",
	"x-forwarded-preferred-username",
	"x-forwarded-provider",
	"x-forwarded-access-token",
	"x-forwarded-scopes",
	"x-forwarded-groups",
	"x-forwarded-identities",
}

// authRequestPrefix starts every forward-auth answer header; any client
// header with it is removed.
const authRequestPrefix = "x-auth-request-"

func headerKeyIn(k string, names []string) bool {
	for _, n := range names {
		if len(k) == len(n) && headerKeyHasPrefix(k, n) {
			return true
		}
	}
	return false
}

// headerKeyHasPrefix compares without allocating: ASCII case folded, '_'
// read as '-'. prefix must be lowercase with '-'.
func headerKeyHasPrefix(k, prefix string) bool {
	if len(k) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := k[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == '_':
			c = '-'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// headerEncoding is how identity values travel in upstream headers
// (upstreams[].header_encoding). HTTP header values are historically
// ISO-8859-1 at best, so non-ASCII needs a convention the app agrees on.
type headerEncoding uint8

const (
	// encPercent (the default): printable ASCII as is, except '%', which
	// is sent as %25 so that the value always decodes back exactly; every
	// other byte (non-ASCII UTF-8) as %XX, uppercase hex. 홍길동 →
	// %ED%99%8D%EA%B8%B8%EB%8F%99. Decode with decodeURIComponent,
	// url.PathUnescape or PHP's rawurldecode; form decoders (URLDecoder,
	// urldecode) would also turn a literal '+' into a space.
	encPercent headerEncoding = iota
	// encRaw sends the UTF-8 bytes as they are. Go's net/http sends them;
	// RFC 9110 calls bytes above 0x7F obs-text, which many servers pass on
	// as ISO-8859-1 (Java: new String(v.getBytes(ISO_8859_1), UTF_8)).
	encRaw
	// encBase64 sends standard base64 of the UTF-8 bytes, for every value
	// encode is given. setIdentityHeaders uses it so that an app can always
	// tell: the name header (Preferred-Username) is always base64, ASCII or
	// not; the identifiers (user, e-mail, provider) are sent as they are
	// when ASCII, as oauth2-proxy-style apps expect, and in base64 only
	// when not — unambiguous, since a plain user holds ':' and a plain
	// e-mail '@', which base64 never does.
	encBase64
	// encEUCKR sends EUC-KR bytes, for old JSP and ASP apps that read
	// headers in the platform charset. x/text's EUC-KR is in fact code
	// page 949 (what those platforms decode "EUC-KR" as): all 11,172
	// Hangul syllables are covered. Characters it lacks (emoji, most
	// scripts other than Korean, Latin and CJK) become '?'.
	encEUCKR
)

var errHeaderEncoding = errors.New("unknown header encoding")

// parseHeaderEncoding reads a header_encoding config value: "percent",
// "raw", "base64" or "euc-kr", ASCII case ignored; "" means percent.
func parseHeaderEncoding(s string) (headerEncoding, error) {
	switch strings.ToLower(s) {
	case "", "percent":
		return encPercent, nil
	case "raw":
		return encRaw, nil
	case "base64":
		return encBase64, nil
	case "euc-kr":
		return encEUCKR, nil
	}
	return 0, fmt.Errorf("%w %q: want percent, raw, base64 or euc-kr", errHeaderEncoding, s)
}

// String returns the config spelling.
func (e headerEncoding) String() string {
	switch e {
	case encPercent:
		return "percent"
	case encRaw:
		return "raw"
	case encBase64:
		return "base64"
	case encEUCKR:
		return "euc-kr"
	}
	return fmt.Sprintf("headerEncoding(%d)", uint8(e))
}

// encode renders v for a header value. In every encoding, control
// characters (C0 including CR, LF and NUL, DEL, C1) are dropped first: a
// provider nickname "x\r\nX-Forwarded-User: admin" must not split headers,
// and no app wants them.
func (e headerEncoding) encode(v string) string {
	v = dropControls(v)
	switch e {
	case encRaw:
		return v
	case encBase64:
		return base64.StdEncoding.EncodeToString([]byte(v))
	case encEUCKR:
		return encodeEUCKR(v)
	}
	return percentEncode(v)
}

// encodeID encodes an identifier (user, e-mail, provider): like encode,
// except that base64 leaves ASCII identifiers as they are (see encBase64).
func (e headerEncoding) encodeID(v string) string {
	if e == encBase64 && isASCII(v) {
		return dropControls(v)
	}
	return e.encode(v)
}

// dropControls removes control runes; it allocates only when there are
// some. Invalid UTF-8 bytes are kept: the encodings handle bytes.
func dropControls(v string) string {
	i := 0
	for i < len(v) {
		r, size := utf8.DecodeRuneInString(v[i:])
		if r != utf8.RuneError && unicode.IsControl(r) {
			break
		}
		i += size
	}
	if i == len(v) {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	b.WriteString(v[:i])
	for i < len(v) {
		r, size := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError || !unicode.IsControl(r) {
			b.WriteString(v[i : i+size])
		}
		i += size
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// percentEncode is encPercent on a value without control characters. '%'
// itself is escaped too, so decoding always gives the value back.
func percentEncode(v string) string { return escapeBytes(v, true) }

// escapeBytes percent-encodes (uppercase hex) control bytes, DEL and bytes
// >= 0x80, and '%' when percent is set. It allocates only when it escapes.
func escapeBytes(s string, percent bool) string {
	esc := func(c byte) bool { return c < 0x20 || c >= 0x7f || (percent && c == '%') }
	n := 0
	for i := 0; i < len(s); i++ {
		if esc(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; esc(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

// encodeEUCKR encodes rune by rune, so that one character EUC-KR lacks
// becomes '?' instead of failing the whole value.
func encodeEUCKR(v string) string {
	if isASCII(v) {
		return v
	}
	enc := korean.EUCKR.NewEncoder()
	b := make([]byte, 0, len(v))
	var buf [4]byte
	for _, r := range v {
		if r < utf8.RuneSelf {
			b = append(b, byte(r))
			continue
		}
		out, err := enc.Bytes(buf[:utf8.EncodeRune(buf[:], r)])
		if err != nil || len(out) == 0 {
			b = append(b, '?')
			continue
		}
		b = append(b, out...)
	}
	return string(b)
}

// identity is what the gateway tells an upstream about the signed-in user.
type identity struct {
	User          string // "{provider}:{subject}", or the gateway user ("sg_…") with accounts
	Identities    string // with accounts: the linked "provider:subject" values, comma separated
	Email         string
	EmailVerified bool
	Name          string
	Provider      string
	AccessToken   string
	Scopes        string // a bearer token's scopes, space separated
}

// setIdentityHeaders sets the X-Forwarded-* identity headers on an upstream
// request. Every value goes through enc (identifiers through encodeID),
// since e-mails and subjects may be non-ASCII too. Email and
// Preferred-Username are omitted when empty. The
// access token is sent only when passAccessToken, and byte for byte (only
// control characters dropped): it is opaque ASCII, and encoding it would
// corrupt it. Call stripIdentityHeaders first; this only sets canonical keys.
func setIdentityHeaders(h http.Header, id identity, enc headerEncoding, passAccessToken bool) {
	// This runs on every proxied request: the values share one backing
	// array, and the keys are canonical already (no h.Set).
	v := make(headerValues, 0, 7)
	v.setOrDel(h, "X-Forwarded-User", enc.encodeID(id.User))
	v.setOrDel(h, "X-Forwarded-Identities", enc.encodeID(id.Identities))
	v.setOrDel(h, "X-Forwarded-Email", enc.encodeID(id.Email))
	v.setOrDel(h, "X-Forwarded-Email-Verified", boolString(id.EmailVerified))
	v.setOrDel(h, "X-Forwarded-Preferred-Username", enc.encode(id.Name))
	v.setOrDel(h, "X-Forwarded-Provider", enc.encodeID(id.Provider))
	v.setOrDel(h, "X-Forwarded-Scopes", enc.encodeID(id.Scopes))
	if passAccessToken {
		v.setOrDel(h, "X-Forwarded-Access-Token", dropControls(id.AccessToken))
	} else {
		delete(h, "X-Forwarded-Access-Token")
	}
}

// headerValues is a backing array for the values of several headers.
type headerValues []string

// setOrDel is setOrDel for a canonical key k, with v kept in *hv.
func (hv *headerValues) setOrDel(h http.Header, k, v string) {
	if v == "" {
		delete(h, k)
		return
	}
	*hv = append(*hv, v)
	h[k] = (*hv)[len(*hv)-1 : len(*hv) : len(*hv)]
}

// setAuthRequestHeaders sets the forward-auth answer headers of /oauth2/auth
// (nginx auth_request, Traefik ForwardAuth, Caddy forward_auth copy them).
func setAuthRequestHeaders(h http.Header, id identity, enc headerEncoding) {
	setOrDel(h, "X-Auth-Request-User", enc.encodeID(id.User))
	setOrDel(h, "X-Auth-Request-Identities", enc.encodeID(id.Identities))
	setOrDel(h, "X-Auth-Request-Email", enc.encodeID(id.Email))
	h.Set("X-Auth-Request-Email-Verified", boolString(id.EmailVerified))
	setOrDel(h, "X-Auth-Request-Preferred-Username", enc.encode(id.Name))
	setOrDel(h, "X-Auth-Request-Provider", enc.encodeID(id.Provider))
	setOrDel(h, "X-Auth-Request-Scopes", enc.encodeID(id.Scopes))
}

// setOrDel sets k to v, or removes it when v is empty: an empty identity
// header is a claim too.
func setOrDel(h http.Header, k, v string) {
	if v == "" {
		h.Del(k)
		return
	}
	h.Set(k, v)
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
