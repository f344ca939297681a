package proxy

import (
	"crypto/tls"
	"net/http"
	"net/netip"
	"testing"
)

// Tests of readForwarded: which X-Forwarded-* values are believed, and from which peers.

func mustPeer(remote string) netip.Addr {
	a, _ := parseForwardedAddr(remote)
	return a
}

func TestReadForwarded(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		remote  string
		tls     bool
		header  http.Header
		trusted []netip.Prefix
		want    forwardedInfo
	}{
		{
			name:   "no trusted proxies: headers ignored",
			remote: "203.0.113.7:5555",
			header: http.Header{"X-Forwarded-For": {"1.1.1.1"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"evil.com"}, "X-Forwarded-Uri": {"/x"}},
			want:   forwardedInfo{ClientIP: addr("203.0.113.7"), Proto: "http", Host: "gate.example.com", URI: "/orig?q=1"},
		},
		{
			name:    "untrusted peer: headers ignored",
			remote:  "203.0.113.7:5555",
			tls:     true,
			header:  http.Header{"X-Forwarded-For": {"1.1.1.1"}, "X-Forwarded-Proto": {"http"}},
			trusted: trusted,
			want:    forwardedInfo{ClientIP: addr("203.0.113.7"), Proto: "https", Host: "gate.example.com", URI: "/orig?q=1"},
		},
		{
			name:    "trusted peer: believed",
			remote:  "10.0.0.1:5555",
			header:  http.Header{"X-Forwarded-For": {"198.51.100.9, 10.0.0.2"}, "X-Forwarded-Proto": {"HTTPS"}, "X-Forwarded-Host": {"app.example.com:8443"}, "X-Forwarded-Uri": {"/보고서?id=3"}},
			trusted: trusted,
			want:    forwardedInfo{ClientIP: addr("198.51.100.9"), Proto: "https", Host: "app.example.com:8443", URI: "/보고서?id=3"},
		},
		{
			name:    "spoofed left entries skipped",
			remote:  "10.0.0.1:5555",
			header:  http.Header{"X-Forwarded-For": {"10.9.9.9, 6.6.6.6", "198.51.100.9 , 10.0.0.2"}},
			trusted: trusted,
			want:    forwardedInfo{ClientIP: addr("198.51.100.9"), Proto: "http", Host: "gate.example.com", URI: "/orig?q=1"},
		},
		{
			name:    "all hops trusted: leftmost",
			remote:  "10.0.0.1:5555",
			header:  http.Header{"X-Forwarded-For": {"10.1.1.1, 10.0.0.2"}},
			trusted: trusted,
			want:    forwardedInfo{ClientIP: addr("10.1.1.1"), Proto: "http", Host: "gate.example.com", URI: "/orig?q=1"},
		},
		{
			name:    "garbage stops the walk",
			remote:  "10.0.0.1:5555",
			header:  http.Header{"X-Forwarded-For": {"1.1.1.1, unknown, 10.0.0.3"}},
			trusted: trusted,
			want:    forwardedInfo{ClientIP: addr("10.0.0.3"), Proto: "http", Host: "gate.example.com", URI: "/orig?q=1"},
		},
		{
			name:    "ports and brackets, IPv6",
			remote:  "[fd00::1]:443",
			header:  http.Header{"X-Forwarded-For": {"[2001:db8::5]:1234, 10.0.0.2:80"}},
			trusted: trusted,
			want:    forwardedInfo{ClientIP: addr("2001:db8::5"), Proto: "http", Host: "gate.example.com", URI: "/orig?q=1"},
		},
		{
			name:    "IPv4-mapped peer is trusted as IPv4",
			remote:  "[::ffff:10.0.0.1]:5555",
			header:  http.Header{"X-Forwarded-For": {"198.51.100.9"}},
			trusted: trusted,
			want:    forwardedInfo{ClientIP: addr("198.51.100.9"), Proto: "http", Host: "gate.example.com", URI: "/orig?q=1"},
		},
		{
			name:    "nonsense values fall back",
			remote:  "10.0.0.1:5555",
			tls:     true,
			header:  http.Header{"X-Forwarded-Proto": {"javascript"}, "X-Forwarded-Host": {"evil.com/x"}, "X-Forwarded-Uri": {"//evil.com"}},
			trusted: trusted,
			want:    forwardedInfo{ClientIP: addr("10.0.0.1"), Proto: "https", Host: "gate.example.com", URI: "/orig?q=1"},
		},
		{
			name:    "last value wins",
			remote:  "10.0.0.1:5555",
			header:  http.Header{"X-Forwarded-Proto": {"http", "https"}, "X-Forwarded-Host": {"a.example.com, b.example.com"}},
			trusted: trusted,
			want:    forwardedInfo{ClientIP: addr("10.0.0.1"), Proto: "https", Host: "b.example.com", URI: "/orig?q=1"},
		},
		{
			name:    "peer without an address",
			remote:  "@",
			header:  http.Header{"X-Forwarded-For": {"1.1.1.1"}},
			trusted: trusted,
			want:    forwardedInfo{Proto: "http", Host: "gate.example.com", URI: "/orig?q=1"},
		},
	}
	for _, tt := range tests {
		r := &http.Request{RemoteAddr: tt.remote, Host: "gate.example.com", RequestURI: "/orig?q=1", Header: tt.header}
		if tt.tls {
			r.TLS = &tls.ConnectionState{}
		}
		// Trusted and Unreadable follow from the peer and the values; the
		// table states the rest.
		want := tt.want
		want.Trusted = want.ClientIP.IsValid() && addrTrusted(mustPeer(tt.remote), tt.trusted)
		want.Unreadable = tt.name == "nonsense values fall back"
		// An invalid X-Forwarded-Host is a bad host: 400, never r.Host.
		want.BadHost = want.Unreadable
		if got := readForwarded(r, tt.trusted); got != want {
			t.Errorf("%s: readForwarded = %+v, want %+v", tt.name, got, want)
		}
	}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }
