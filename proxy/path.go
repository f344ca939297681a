package proxy

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Errors of cleanPath. The request handler answers all of them with 400; they
// are distinct so that tests and logs can tell why.
var (
	errPathEncodedSlash = errors.New("encoded slash or backslash in path")
	errPathBackslash    = errors.New("backslash in path")
	errPathControl      = errors.New("control character in path")
	errPathEscape       = errors.New("invalid percent-encoding in path")
	errPathDotSegment   = errors.New("disguised dot-segment in path")
	errPathDoubleEncode = errors.New("escape left after decoding the path once")
	errPathAmbiguous    = errors.New("path routes elsewhere once normalised or trimmed")
	errPathOpaque       = errors.New("opaque request target")
	errPathLookalike    = errors.New("separator lookalike in path")
)

// cleanPath returns the path to route on and to forward, or an error (→ 400)
// for a request path whose meaning differs between us and the upstream.
//
// The path is percent-decoded once. Refused are the spellings that servers
// behind us read differently from path.Clean: an encoded '/' or '\', a raw
// '\', control characters (raw or encoded), invalid escapes, a dot-segment
// hidden behind a path parameter ("..;x") or written with %2e, a segment of
// only dots and spaces other than "." and "..", and a double-encoded '/',
// '\', '.' or control character ("%252f"), which an upstream that decodes
// twice would turn into the single-encoded trick. So are characters that
// normalising or code-page-converting upstreams read as a separator
// ("／", "₩"; see hasSeparatorLookalike).
//
// What is left is resolved like path.Clean ("." and ".." removed, "//"
// collapsed), keeping a trailing slash; the result always starts with '/'.
// It is the decoded path: the caller sets outURL.Path to it and clears
// outURL.RawPath so that net/url re-encodes it. Non-ASCII (Hangul) is kept,
// whether it came raw or percent-encoded.
func cleanPath(u *url.URL) (string, error) {
	if u.Opaque != "" {
		return "", errPathOpaque
	}
	// RawPath is what the client sent when it differs from the canonical
	// escaping of Path; a hand-built URL may carry a stale one.
	raw := u.RawPath
	if raw != "" {
		dec, err := url.PathUnescape(raw)
		if err != nil {
			return "", errPathEscape
		}
		if dec != u.Path {
			raw = ""
		}
	}
	if raw == "" {
		raw = u.EscapedPath()
	}
	if raw == "" {
		return "/", nil
	}
	dec, err := decodeRequestPath(raw)
	if err != nil {
		return "", err
	}
	if hasSeparatorLookalike(dec) {
		return "", errPathLookalike
	}
	if err := checkSegments(raw, dec); err != nil {
		return "", err
	}
	if dec[0] != '/' {
		dec = "/" + dec
	}
	// path.Clean does not allocate when dec is already clean.
	p := path.Clean(dec)
	if dec[len(dec)-1] == '/' && p != "/" {
		if len(dec) == len(p)+1 && dec[:len(p)] == p {
			return dec, nil
		}
		p += "/"
	}
	return p, nil
}

// decodeRequestPath percent-decodes raw once, refusing what cleanPath
// refuses at the byte level. It allocates only when raw contains '%'.
func decodeRequestPath(raw string) (string, error) {
	n := 0
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '\\':
			return "", errPathBackslash
		case c < 0x20 || c == 0x7f:
			return "", errPathControl
		case c == '%':
			n++
		}
	}
	if n == 0 {
		return raw, nil
	}
	var b strings.Builder
	b.Grow(len(raw) - 2*n)
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		d, ok := unhexPair(raw, i+1)
		if !ok {
			return "", errPathEscape
		}
		switch {
		case d == '/' || d == '\\':
			return "", errPathEncodedSlash
		case d < 0x20 || d == 0x7f:
			return "", errPathControl
		}
		b.WriteByte(d)
		i += 2
	}
	dec := b.String()
	// Any escape left after one decoding ("%2570" → "%70"): an upstream
	// that decodes once more reads another path than the one routed on
	// ("/%2570rivate" is "/private" to it). No legitimate link needs a
	// literal "%XX" in its path; a '%' not followed by two hex digits
	// ("/100%25" → "/100%") stays allowed.
	if hasEscape(dec) {
		return "", errPathDoubleEncode
	}
	return dec, nil
}

// hasSeparatorLookalike reports whether the decoded path holds a character
// that some upstream turns into '/', '\' or '.': NFKC normalisation maps
// the fullwidth and small forms, and Windows "best fit" conversion to an
// ANSI code page (legacy ASP and CGI apps) maps several of them, including
// ₩ U+20A9 to '\' in code page 949 (Korean) and ¥ U+00A5 to '\' in code
// page 932. "/public/..／private" is one segment to us and "/private" to
// such an upstream. It does not allocate.
func hasSeparatorLookalike(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < utf8.RuneSelf {
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\uFF0F', '\uFF3C', '\uFF0E', '\uFE52', '\uFE68', '\u2024', '\u2025', '\u2026', '\u2215', '\u2216',
			'\u2044', '\u29F5', '\u29F8', '\u29F9', '\u20A9', '\u00A5':
			return true
		}
		i += size - 1
	}
	return false
}

// hasEscape reports whether s, already decoded once, still holds a valid
// percent-escape.
func hasEscape(s string) bool {
	for i := strings.IndexByte(s, '%'); i >= 0; {
		if _, ok := unhexPair(s, i+1); ok {
			return true
		}
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// dangerousByte is what must not appear after a second decoding.
func dangerousByte(c byte) bool {
	return c == '/' || c == '\\' || c == '.' || c < 0x20 || c == 0x7f
}

// unhexPair decodes the two hex digits at s[i:i+2].
func unhexPair(s string, i int) (byte, bool) {
	if i+1 >= len(s) {
		return 0, false
	}
	h, ok1 := unhex(s[i])
	l, ok2 := unhex(s[i+1])
	return h<<4 | l, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// checkSegments refuses dot-segments that path.Clean would not resolve but
// an upstream might: "..;x" (Tomcat and Spring drop path parameters),
// "%2e%2e" (decoded after routing by some servers) and runs of dots and
// spaces such as "..." or ".. " (trimmed by Windows file APIs).
// Since encoded slashes are refused, raw and decoded segments pair up.
func checkSegments(raw, dec string) error {
	for dec != "" {
		var rs, ds string
		rs, raw, _ = strings.Cut(raw, "/")
		ds, dec, _ = strings.Cut(dec, "/")
		base, _, hasParam := strings.Cut(ds, ";")
		if !dotsAndSpaces(base) {
			continue
		}
		if base == "." || base == ".." {
			if hasParam || rs != ds {
				return fmt.Errorf("%w: %q", errPathDotSegment, truncatePath(rs))
			}
			continue
		}
		return fmt.Errorf("%w: %q", errPathDotSegment, truncatePath(rs))
	}
	return nil
}

// dotsAndSpaces reports whether s is non-empty, made only of '.' and ' ',
// and has at least one '.'.
func dotsAndSpaces(s string) bool {
	dot := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.':
			dot = true
		case ' ':
		default:
			return false
		}
	}
	return dot
}

// truncatePath keeps error strings short; request paths are not secrets but
// can be long.
func truncatePath(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// pathHasPrefix reports whether cleaned path p falls under route prefix pre
// ("/" matches all; "/app" matches "/app", "/app/", "/app/x" but not
// "/apple").
//
// A trailing slash on pre is not significant ("/app/" also matches "/app"),
// because many apps serve "/app" and "/app/" alike and a protected "/app/"
// must not leak through "/app". A path parameter ends a segment too:
// "/app;jsessionid=1" falls under "/app", as Tomcat and Spring read it.
// Matching is case-sensitive, like the paths themselves.
func pathHasPrefix(p, pre string) bool {
	pre = strings.TrimRight(pre, "/")
	if pre == "" {
		return true
	}
	if !strings.HasPrefix(p, pre) {
		return false
	}
	if len(p) == len(pre) {
		return true
	}
	c := p[len(pre)]
	return c == '/' || c == ';'
}

// The rules below are the post-login redirect's (redirect.go): there the
// path is not cleaned but judged, as a browser will follow it.

// validRedirectPath applies the path rules to the path of an rd (empty for
// "https://host?x"): no '\', no "//", no whitespace or control or invisible
// characters, no slash lookalikes, no dot-segments, valid escapes; and
// after decoding once, still none of these (percent-decoding must not open
// a second door), nor a double-encoded '/', '\', '.' or control
// character. One exception after decoding: %20 inside a segment
// ("/files/my%20report.pdf") is a legitimate deep link, while a space next
// to a '/' or at the end is refused.
func validRedirectPath(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != '/' || strings.IndexByte(p, ' ') >= 0 {
		return false
	}
	if !validDecodedPath(p) {
		return false
	}
	if strings.IndexByte(p, '%') < 0 {
		return true
	}
	d, ok := decodeOnce(p)
	return ok && validDecodedPath(d) && !hasDangerousEscape(d)
}

// hasDangerousEscape reports whether s, already decoded once, still holds an
// escape of '/', '\', '.' or a control character ("%252F" became "%2F"):
// one more decoding anywhere downstream would open the door again.
func hasDangerousEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if d, ok := unhexPair(s, i+1); ok && dangerousByte(d) {
				return true
			}
		}
	}
	return false
}

// decodeOnce percent-decodes s, refusing invalid escapes.
func decodeOnce(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		c, ok := unhexPair(s, i+1)
		if !ok {
			return "", false
		}
		b = append(b, c)
		i += 2
	}
	return string(b), true
}

// validDecodedPath applies the byte, rune and segment rules of
// validRedirectPath to d, raw or decoded once.
func validDecodedPath(d string) bool {
	if len(d) == 0 || d[0] != '/' {
		return false
	}
	for i := 0; i < len(d); {
		c := d[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\\' || c < 0x20 || c == 0x7f:
				return false
			case c == '/' && i+1 < len(d) && d[i+1] == '/':
				return false
			case c == ' ' && (i+1 == len(d) || d[i-1] == '/' || d[i+1] == '/'):
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(d[i:])
		// Invalid UTF-8 after decoding is legacy bytes (EUC-KR paths), not
		// a trick: the target keeps them percent-encoded.
		if r != utf8.RuneError && badRune(r) {
			return false
		}
		i += size
	}
	for seg := range strings.SplitSeq(d[1:], "/") {
		base, _, _ := strings.Cut(seg, ";")
		if dotsAndSpaces(base) {
			return false
		}
	}
	return true
}

// hasBadRune reports whether s holds a rune refused before the path.
func hasBadRune(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || badRune(r) {
			return true
		}
	}
	return false
}

// badRune: whitespace, control and invisible formatting characters, the
// Hangul fillers (blank-looking Hangul), and slash and backslash lookalikes
// that Unicode normalisation in some upstream could turn into '/' or '\'.
func badRune(r rune) bool {
	switch r {
	case '\uFF0F', '\uFF3C', '\u2215', '\u2216', '\u2044', '\u29F5', '\u29F8', '\u29F9', '\uFE68',
		'\u115F', '\u1160', '\u3164', '\uFFA0':
		return true
	}
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}
