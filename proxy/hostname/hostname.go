// Package hostname is socialgate's one host canonicaliser. Configuration
// validation (config), routing, forward-auth and the redirect policy (proxy)
// all compare hosts in the form Canonical returns, so that `check-config`
// and `serve` can never disagree about a host, and a route, a redirect
// target and a request's Host header are read the same way.
//
// It sits below both users: `cmd → config → proxy/hostname` and
// `cmd → proxy → proxy/hostname`; it imports neither, so dependencies stay
// one-way and config still does not import proxy.
package hostname

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Errors of Canonical and CanonicalName; wrapped with the offending part.
var (
	ErrEmpty   = errors.New("the host is empty")
	ErrInvalid = errors.New("not a valid host name")
	ErrPort    = errors.New("port is not a number from 1 to 65535")
	ErrIPv6    = errors.New("write an IPv6 address in brackets, such as [::1]:8080")
)

// profile maps a name to ASCII as browsers do for a URL's host (UTS #46
// lookup, non-transitional) but does not enforce the STD3 character rules:
// internal names such as "my_app.internal" exist, resolve, and browsers
// send them. The characters are checked after mapping instead (see label).
var profile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(false))

// maxName is the longest DNS name in presentation form, without the dot.
const maxName = 253

// Canonical returns "host" or "host:port" in canonical form:
//   - a name is mapped to lowercase ASCII (IDNA: Hangul labels become
//     punycode, fullwidth letters and dots fold), one trailing dot dropped;
//     every label is 1–63 bytes of a–z, 0–9, '-' and '_';
//   - an IPv4 literal stays dotted decimal; an IPv6 literal is bracketed in
//     netip's canonical spelling, without a zone;
//   - a port is decimal 1–65535 without leading zeros.
//
// Anything else is an error: quotes, spaces, several colons
// ("a:1:2"), an empty port, user info. It does not allocate when s is
// already canonical, which is the case for what browsers send.
func Canonical(s string) (string, error) {
	name, port, err := split(s)
	if err != nil {
		return "", err
	}
	cn, err := CanonicalName(name)
	if err != nil {
		return "", err
	}
	if port == "" {
		return cn, nil
	}
	if len(s) == len(cn)+1+len(port) && s[:len(cn)] == cn {
		return s, nil
	}
	return cn + ":" + port, nil
}

// CanonicalName is Canonical for a host without a port ("[::1]" or "::1"
// for IPv6).
func CanonicalName(h string) (string, error) {
	if h == "" {
		return "", ErrEmpty
	}
	if h[0] == '[' || strings.IndexByte(h, ':') >= 0 {
		v6 := strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
		a, err := netip.ParseAddr(v6)
		if err != nil || !a.Is6() || a.Zone() != "" || (h[0] == '[') != (h[len(h)-1] == ']') {
			return "", fmt.Errorf("%w: %q is not an IPv6 address", ErrInvalid, h)
		}
		c := "[" + a.String() + "]"
		if c == h {
			return h, nil
		}
		return c, nil
	}
	if plain(h, false) {
		return strings.TrimSuffix(h, "."), nil
	}
	if !utf8.ValidString(h) {
		return "", fmt.Errorf("%w: %q", ErrInvalid, h)
	}
	a, err := profile.ToASCII(h)
	if err != nil {
		return "", fmt.Errorf("%w: %q", ErrInvalid, h)
	}
	a = strings.TrimSuffix(strings.ToLower(a), ".")
	// The result must be a fixed point: canonical forms compare equal only
	// if mapping one again gives it back.
	if again, err := profile.ToASCII(a); err != nil || again != a || strings.HasSuffix(a, ".") || !plain(a, true) {
		return "", fmt.Errorf("%w: %q", ErrInvalid, h)
	}
	return a, nil
}

// Split returns the name and port ("" when none) of a canonical host.
func Split(hp string) (name, port string) {
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end >= 0 && end+1 < len(hp) && hp[end+1] == ':' {
			return hp[:end+1], hp[end+2:]
		}
		return hp, ""
	}
	if i := strings.LastIndexByte(hp, ':'); i >= 0 {
		return hp[:i], hp[i+1:]
	}
	return hp, ""
}

// DropDefaultPort removes ":80" from an http host and ":443" from an https
// one: browsers send neither, so a route or redirect entry compares equal
// to what arrives.
func DropDefaultPort(hp, scheme string) string {
	name, port := Split(hp)
	if (port == "80" && scheme == "http") || (port == "443" && scheme == "https") {
		return name
	}
	return hp
}

// split separates "name[:port]" or "[v6][:port]" and checks the port.
func split(s string) (name, port string, err error) {
	if s == "" {
		return "", "", ErrEmpty
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", fmt.Errorf(`%w: missing "]" after an IPv6 address`, ErrInvalid)
		}
		name, rest := s[:end+1], s[end+1:]
		if rest == "" {
			return name, "", nil
		}
		if rest[0] != ':' {
			return "", "", fmt.Errorf(`%w: expected ":port" after "]"`, ErrInvalid)
		}
		port = rest[1:]
		return name, port, checkPort(port)
	}
	switch strings.Count(s, ":") {
	case 0:
		return s, "", nil
	case 1:
		name, port, _ = strings.Cut(s, ":")
		return name, port, checkPort(port)
	}
	return "", "", ErrIPv6
}

// checkPort accepts 1–65535 in decimal without leading zeros or sign.
func checkPort(p string) error {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return fmt.Errorf("%w: %q", ErrPort, p)
	}
	n := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: %q", ErrPort, p)
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return fmt.Errorf("%w: %q", ErrPort, p)
	}
	return nil
}

// plain reports whether h (one trailing dot allowed) is already canonical:
// lowercase labels of a–z, 0–9, '-', '_', 1–63 bytes, none that IDNA would
// judge (punycode "xn--" or other "??--" labels, leading or trailing '-'),
// at most maxName bytes. After IDNA mapping, idna is set: punycode labels
// are then what the mapping produced.
func plain(h string, idna bool) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > maxName {
		return false
	}
	start := 0
	for i := 0; i <= len(h); i++ {
		if i < len(h) && h[i] != '.' {
			c := h[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
			continue
		}
		if !label(h[start:i], idna) {
			return false
		}
		start = i + 1
	}
	return true
}

func label(l string, idna bool) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	if idna {
		return true
	}
	// "xn--" labels must be valid punycode; leave every "??--" label to
	// the IDNA path (which accepts valid punycode and returns it as is).
	return len(l) < 4 || l[2:4] != "--"
}
