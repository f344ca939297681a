package proxy

import (
	"net/http"
	"net/netip"
	"strings"
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
