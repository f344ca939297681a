package proxy

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/socialgate/socialgate/proxy/hostname"
)

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

// forwardedInfo is what the gateway believes about the client and the URL
// it asked for.
type forwardedInfo struct {
	ClientIP netip.Addr // zero when RemoteAddr is not an address
	Proto    string     // "http" or "https"
	// Host is canonical (hostname.Canonical, the scheme's default port
	// dropped), "" when the request named none (HTTP/1.0). Routing, the
	// Host a preserve_host route sends and X-Forwarded-Host all use it.
	Host string
	URI  string // request-target: path and query
	// Trusted says the peer is a trusted proxy, so Host and URI came from it.
	Trusted bool
	// Unreadable says a trusted proxy sent an X-Forwarded-Host, -Port or
	// -Uri or an X-Original-URL that is not what it should be:
	// forward-auth must refuse, not fall back to the request's own values.
	Unreadable bool
	// BadHost says the host the request is judged by (Host, or a trusted
	// X-Forwarded-Host) is not a valid host: answer 400, never pass it on.
	BadHost bool
}

// readForwarded believes X-Forwarded-For/-Proto/-Host/-Port/-Uri and
// X-Original-URL only when the peer (r.RemoteAddr) is in trusted.
// X-Forwarded-For is walked right to left, skipping trusted hops: the first
// untrusted address is the client (every hop appends, so only what trusted
// hops wrote is known to be true). If every hop is trusted, the leftmost is
// the client; an entry that is not an address stops the walk at the last
// hop known. For the others the last value counts (the nearest proxy's).
// X-Original-URL (an absolute URL: nginx's $scheme://$http_host$request_uri)
// gives scheme, host and URI at once and wins over the separate headers.
// X-Forwarded-Port completes a host sent without one (nginx's $host drops
// it). Whatever is not believed comes from the connection: ClientIP =
// RemoteAddr, Proto = "https" if r.TLS != nil else "http", Host = r.Host,
// URI = r.RequestURI.
func readForwarded(r *http.Request, trusted []netip.Prefix) forwardedInfo {
	fi := forwardedInfo{Proto: "http", Host: r.Host, URI: r.RequestURI}
	if !strings.HasPrefix(fi.URI, "/") && r.URL != nil {
		// An absolute-form request line ("GET http://h/p HTTP/1.1").
		fi.URI = r.URL.RequestURI()
	}
	if r.TLS != nil {
		fi.Proto = "https"
	}
	if peer, ok := parseForwardedAddr(r.RemoteAddr); ok {
		fi.ClientIP = peer
		if addrTrusted(peer, trusted) {
			fi.Trusted = true
			fi.ClientIP = clientFromXFF(r.Header.Values("X-Forwarded-For"), peer, trusted)
			readTrusted(r.Header, &fi)
		}
	}
	if !fi.BadHost {
		fi.Host, fi.BadHost = canonicalRequestHost(fi.Host, fi.Proto)
	}
	return fi
}

// readTrusted applies a trusted proxy's headers to fi.
func readTrusted(h http.Header, fi *forwardedInfo) {
	if v := lastListValue(h.Values("X-Forwarded-Proto")); v != "" {
		switch strings.ToLower(v) {
		case "http":
			fi.Proto = "http"
		case "https":
			fi.Proto = "https"
		}
	}
	if vs := h.Values("X-Forwarded-Host"); len(vs) > 0 {
		if v := lastListValue(vs); validForwardedHost(v) {
			fi.Host = v
		} else {
			// Never fall back to Host: the proxy meant another host.
			fi.Unreadable, fi.BadHost = true, true
		}
	}
	if vs := h.Values("X-Forwarded-Port"); len(vs) > 0 {
		port := lastListValue(vs)
		if !validPort(port) {
			fi.Unreadable = true
		} else if _, has := hostname.Split(fi.Host); has == "" && fi.Host != "" {
			fi.Host += ":" + port
		}
	}
	if vs := h.Values("X-Forwarded-Uri"); len(vs) > 0 {
		if v := lastValue(vs); validForwardedURI(v) {
			fi.URI = v
		} else {
			fi.Unreadable = true
		}
	}
	if vs := h.Values("X-Original-Url"); len(vs) > 0 {
		proto, host, uri, ok := splitOriginalURL(lastValue(vs))
		if !ok {
			fi.Unreadable = true
			return
		}
		fi.Proto, fi.Host, fi.URI = proto, host, uri
	}
}

// splitOriginalURL reads "scheme://host[:port]/uri" as nginx builds it.
func splitOriginalURL(v string) (proto, host, uri string, ok bool) {
	switch {
	case strings.HasPrefix(v, "https://"):
		proto, v = "https", v[len("https://"):]
	case strings.HasPrefix(v, "http://"):
		proto, v = "http", v[len("http://"):]
	default:
		return "", "", "", false
	}
	i := strings.IndexByte(v, '/')
	if i < 0 {
		host, uri = v, "/"
	} else {
		host, uri = v[:i], v[i:]
	}
	if !validForwardedHost(host) || !validForwardedURI(uri) {
		return "", "", "", false
	}
	return proto, host, uri, true
}

// canonicalRequestHost is hostname.Canonical with the scheme's default
// port dropped; bad reports a host that is not valid. An absent host
// (HTTP/1.0) is "" and not bad: only host-less routes match it.
func canonicalRequestHost(h, proto string) (host string, bad bool) {
	if h == "" {
		return "", false
	}
	c, err := hostname.Canonical(h)
	if err != nil {
		return "", true
	}
	return hostname.DropDefaultPort(c, proto), false
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
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
