package proxy

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
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
	"x-forwarded-groups",
}

// authRequestPrefix starts every forward-auth answer header; any client
// header with it is removed.
const authRequestPrefix = "x-auth-request-"

// forwardedHeaderNames are the client headers that tell an upstream who the
// client is or which URL it asked for. The reverse proxy sets its own
// X-Forwarded-For/-Proto/-Host; the rest would let a client override the
// scheme, host or path some frameworks see (X-Original-URL and
// X-Rewrite-URL re-route requests in IIS and Symfony, behind our routing).
var forwardedHeaderNames = []string{
	"forwarded",
	"x-forwarded-for",
	"x-forwarded-proto",
	"x-forwarded-host",
	"x-forwarded-uri",
	"x-forwarded-port",
	"x-forwarded-prefix",
	"x-forwarded-server",
	"x-forwarded-ssl",
	"x-real-ip",
	"x-original-url",
	"x-original-uri",
	"x-rewrite-url",
	"front-end-https",
}

// stripIdentityHeaders removes every header whose name, lowercased with '_'
// read as '-', is an identity header or starts with "x-auth-request-". It
// walks the map itself, so non-canonical keys put there directly
// (h["x_forwarded_user"]) go too: CGI, PHP and many frameworks read '_' and
// '-' alike.
func stripIdentityHeaders(h http.Header) {
	for k := range h {
		if headerKeyHasPrefix(k, authRequestPrefix) || headerKeyIn(k, identityHeaderNames) {
			delete(h, k)
		}
	}
}

// stripForwarded removes client copies of forwardedHeaderNames, names
// matched like stripIdentityHeaders. Call readForwarded first: it reads the
// headers this removes.
func stripForwarded(h http.Header) {
	for k := range h {
		if headerKeyIn(k, forwardedHeaderNames) {
			delete(h, k)
		}
	}
}

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

// percentEncode is encPercent on a value without control characters.
func percentEncode(v string) string {
	n := 0
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == '%' {
			n++
		}
	}
	if n == 0 {
		return v
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(v)+2*n)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c >= 0x7f || c == '%' {
			b = append(b, '%', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
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
	User          string // "{provider}:{subject}"
	Email         string
	EmailVerified bool
	Name          string
	Provider      string
	AccessToken   string
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
	v := make(headerValues, 0, 6)
	v.setOrDel(h, "X-Forwarded-User", enc.encodeID(id.User))
	v.setOrDel(h, "X-Forwarded-Email", enc.encodeID(id.Email))
	v.setOrDel(h, "X-Forwarded-Email-Verified", boolString(id.EmailVerified))
	v.setOrDel(h, "X-Forwarded-Preferred-Username", enc.encode(id.Name))
	v.setOrDel(h, "X-Forwarded-Provider", enc.encodeID(id.Provider))
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
	setOrDel(h, "X-Auth-Request-Email", enc.encodeID(id.Email))
	setOrDel(h, "X-Auth-Request-Preferred-Username", enc.encode(id.Name))
	setOrDel(h, "X-Auth-Request-Provider", enc.encodeID(id.Provider))
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

// forwardedInfo is what the gateway believes about the client and the URL
// it asked for.
type forwardedInfo struct {
	ClientIP netip.Addr // zero when RemoteAddr is not an address
	Proto    string     // "http" or "https"
	Host     string
	URI      string // request-target: path and query
	// Trusted says the peer is a trusted proxy, so Host and URI came from it.
	Trusted bool
	// Unreadable says a trusted proxy sent an X-Forwarded-Host or -Uri that
	// is not a host or an origin-form path: forward-auth must refuse, not
	// fall back to the request's own values.
	Unreadable bool
}

// readForwarded believes X-Forwarded-For/-Proto/-Host/-Uri only when the
// peer (r.RemoteAddr) is in trusted. X-Forwarded-For is walked right to
// left, skipping trusted hops: the first untrusted address is the client
// (every hop appends, so only what trusted hops wrote is known to be
// true). If every hop is trusted, the leftmost is the client; an entry that
// is not an address stops the walk at the last hop known. For Proto, Host
// and Uri the last value counts (the nearest proxy's); values that do not
// look like a scheme, a host or a path are ignored. Whatever is not
// believed comes from the connection: ClientIP = RemoteAddr, Proto =
// "https" if r.TLS != nil else "http", Host = r.Host, URI = r.RequestURI.
func readForwarded(r *http.Request, trusted []netip.Prefix) forwardedInfo {
	fi := forwardedInfo{Proto: "http", Host: r.Host, URI: r.RequestURI}
	if !strings.HasPrefix(fi.URI, "/") && r.URL != nil {
		// An absolute-form request line ("GET http://h/p HTTP/1.1").
		fi.URI = r.URL.RequestURI()
	}
	if r.TLS != nil {
		fi.Proto = "https"
	}
	peer, ok := parseForwardedAddr(r.RemoteAddr)
	if !ok {
		return fi
	}
	fi.ClientIP = peer
	if !addrTrusted(peer, trusted) {
		return fi
	}
	fi.Trusted = true
	fi.ClientIP = clientFromXFF(r.Header.Values("X-Forwarded-For"), peer, trusted)
	if v := lastListValue(r.Header.Values("X-Forwarded-Proto")); v != "" {
		switch strings.ToLower(v) {
		case "http":
			fi.Proto = "http"
		case "https":
			fi.Proto = "https"
		}
	}
	if vs := r.Header.Values("X-Forwarded-Host"); len(vs) > 0 {
		if v := lastListValue(vs); validForwardedHost(v) {
			fi.Host = v
		} else {
			fi.Unreadable = true
		}
	}
	if vs := r.Header.Values("X-Forwarded-Uri"); len(vs) > 0 {
		if v := lastValue(vs); validForwardedURI(v) {
			fi.URI = v
		} else {
			fi.Unreadable = true
		}
	}
	return fi
}

// clientFromXFF walks the X-Forwarded-For list right to left.
func clientFromXFF(lines []string, peer netip.Addr, trusted []netip.Prefix) netip.Addr {
	client := peer
	for i := len(lines) - 1; i >= 0; i-- {
		list := lines[i]
		for list != "" {
			var item string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				item, list = list[j+1:], list[:j]
			} else {
				item, list = list, ""
			}
			a, ok := parseForwardedAddr(strings.TrimSpace(item))
			if !ok {
				return client
			}
			client = a
			if !addrTrusted(a, trusted) {
				return client
			}
		}
	}
	return client
}

// parseForwardedAddr reads "ip", "ip:port" or "[ip]:port", unmapping
// IPv4-in-IPv6 so that trusted IPv4 prefixes apply.
func parseForwardedAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func addrTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// lastListValue returns the last element of a comma-separated header that
// may come in several lines.
func lastListValue(lines []string) string {
	v := lastValue(lines)
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

func lastValue(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// validForwardedHost accepts "host" or "host:port" made of the characters a
// Host header may hold.
func validForwardedHost(v string) bool {
	if v == "" || len(v) > 255 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

// validForwardedURI accepts an origin-form request-target: a '/' that does
// not start "//", and no control characters, spaces or backslashes.
func validForwardedURI(v string) bool {
	if v == "" || v[0] != '/' || len(v) > 1 && (v[1] == '/' || v[1] == '\\') {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return false
		}
	}
	return true
}
