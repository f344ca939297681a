package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/socialgate/socialgate/proxy/hostname"
)

// normalizeHostname returns h as browsers send it in a Host header, in
// the one canonical form the gateway uses everywhere (proxy/hostname):
// lower-case ASCII with Hangul and other Unicode labels in punycode, or the
// canonical form of an IP address. check-config and serve therefore agree.
func normalizeHostname(h string) (string, error) {
	if h == "" {
		return "", errors.New("the host is empty")
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		if ip.Zone() != "" {
			return "", errors.New("an IPv6 zone is not allowed")
		}
		return ip.String(), nil
	}
	a, err := hostname.CanonicalName(h)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid host name", h)
	}
	return a, nil
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port". The
// port, when present, is a number from 1 to 65535.
func splitHostPort(s string) (host, port string, err error) {
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", errors.New(`missing "]" after an IPv6 address`)
		}
		host, rest := s[1:end], s[end+1:]
		if rest != "" && !strings.HasPrefix(rest, ":") {
			return "", "", errors.New(`expected ":port" after "]"`)
		}
		if _, err := netip.ParseAddr(host); err != nil || !strings.Contains(host, ":") {
			return "", "", fmt.Errorf("%q is not an IPv6 address", host)
		}
		port = strings.TrimPrefix(rest, ":")
		if rest != "" {
			if err := checkPort(port); err != nil {
				return "", "", err
			}
		}
		return host, port, nil
	case strings.Count(s, ":") > 1:
		return "", "", errors.New("write an IPv6 address in brackets, such as [::1]:8080")
	case strings.Contains(s, ":"):
		host, port, _ = strings.Cut(s, ":")
		if err := checkPort(port); err != nil {
			return "", "", err
		}
		return host, port, nil
	}
	return s, "", nil
}

func checkPort(port string) error {
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || port != strconv.Itoa(n) {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return nil
}

// normalizeHostPort checks and normalizes "host[:port]". It refuses what
// people paste by mistake: schemes, paths, wildcards, user info.
func normalizeHostPort(s string) (string, error) {
	switch {
	case strings.Contains(s, "://"):
		return "", errors.New("write a host, without a scheme")
	case strings.ContainsAny(s, "/\\?#"):
		return "", errors.New("write a host, without a path")
	case strings.Contains(s, "*"):
		return "", errors.New(`wildcards are not supported; a leading "." matches all subdomains`)
	case strings.Contains(s, "@"):
		return "", errors.New("write a host, without user info")
	case strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "", errors.New("a host has no spaces or control characters")
	}
	host, _, err := splitHostPort(s)
	if err != nil {
		return "", err
	}
	if _, err = normalizeHostname(host); err != nil {
		return "", err
	}
	// The gateway's canonicaliser has the last word: what passes here is
	// exactly what routing and the redirect policy accept at start.
	c, err := hostname.Canonical(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid host: %v", s, err)
	}
	return c, nil
}

// checkHTTPURL checks that raw is an absolute http or https URL with a host
// and without user info or fragment, and returns it parsed.
func checkHTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil && !strings.Contains(raw, "://"):
		return nil, errors.New(`must be an absolute http:// or https:// URL`)
	case err != nil:
		return nil, errors.New("is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New(`must be an absolute http:// or https:// URL`)
	case u.Host == "":
		return nil, errors.New("must have a host")
	case u.User != nil:
		return nil, errors.New("must not contain user info")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, errors.New(`must not have a "#" fragment`)
	}
	if _, _, err := splitHostPort(u.Host); err != nil {
		return nil, err
	}
	return u, nil
}

// normalizePublicURL checks server.public_url and returns its canonical
// form: "scheme://host[:port]" with the host normalized and the scheme's
// default port dropped, so that it compares equal to what browsers send.
func normalizePublicURL(raw string) (*url.URL, error) {
	u, err := checkHTTPURL(raw)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Path != "" && u.Path != "/":
		return nil, errors.New(`must not have a path: the gateway owns every path under its host`)
	case u.RawQuery != "" || u.ForceQuery:
		return nil, errors.New("must not have a query")
	}
	host, port, err := splitHostPort(u.Host)
	if err != nil {
		return nil, err
	}
	if host, err = normalizeHostname(host); err != nil {
		return nil, err
	}
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	hp := host
	if strings.Contains(host, ":") {
		hp = "[" + host + "]"
	}
	if port != "" {
		hp = net.JoinHostPort(host, port)
	}
	return &url.URL{Scheme: u.Scheme, Host: hp}, nil
}

// isLoopback reports whether host (without port) is this machine.
func isLoopback(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.IsLoopback()
	}
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}
