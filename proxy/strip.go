package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Header hygiene: the one list of request headers no client may send an
// upstream. Names are compared ASCII case folded with '_' read as '-' (CGI,
// PHP and many frameworks turn both into the same variable), and every copy
// goes, whatever its spelling.

// clientIdentityNames are identity headers that other gateways and SSO
// layers set and that apps are often configured to trust. socialgate sets
// none of them, so a client copy can only be a forgery: an app moved from
// Apache mod_auth (Remote-User), Grafana auth proxy (X-WEBAUTH-USER),
// Authelia (Remote-*), Azure App Service, Google IAP, AWS ALB or Cloudflare
// Access to socialgate keeps trusting them.
var clientIdentityNames = []string{
	"x-auth-user", "x-auth-email", "x-auth-name", "x-auth-username",
	"x-user", "x-user-id", "x-user-email", "x-user-name", "x-username", "x-email",
	"x-preferred-username", "x-proxy-user", "x-proxy-remote-user", "x-authenticated-user",
	"x-authenticated-userid", "x-consumer-username", "x-credential-username",
	"x-client-cert", "x-client-verify", "x-client-dn",
	// Forwarding spellings beyond forwardedHeaderNames: scheme and host
	// overrides some frameworks believe, and client-IP headers of CDNs.
	"x-forwarded-scheme", "x-forwarded-protocol", "x-forwarded-by", "x-forwarded-client-cert",
	"x-forwarded-client-ip", "x-url-scheme", "x-scheme", "x-host", "x-http-host",
	"true-client-ip", "x-client-ip", "x-cluster-client-ip", "cf-connecting-ip",
	"fastly-client-ip", "x-proxyuser-ip",
}

// stripFamilies are name prefixes whose every member goes (lowercase,
// '-' separated).
var stripFamilies = []string{
	authRequestPrefix, // X-Auth-Request-*: the forward-auth answers
	"remote-",         // Remote-User, Remote-Email, Remote-Groups, Remote-Name
	"x-remote-",       // X-Remote-User, X-Remote-Group
	"x-webauth-",      // X-WEBAUTH-USER, -EMAIL, -NAME
	"x-original-",     // X-Original-URL, -URI, -Host, -Method, -Forwarded-For
	"x-ms-client-principal",
	"x-goog-authenticated-user-",
	"x-goog-iap-",
	"x-amzn-oidc-",
	"cf-access-",
	"x-ssl-client-",
	"ssl-client-",
}

// headerStripper removes client copies of the gateway's identity headers,
// the forwarding family and the families above, plus the operator's
// additions (server.strip_headers). Immutable after newHeaderStripper.
type headerStripper struct {
	exact    []string // lowercase, '-' separated
	prefixes []string
}

var errStripHeader = errors.New("strip header")

// newHeaderStripper builds the stripper with extra names: "X-Corp-User"
// for one header, "X-Corp-*" for every header starting with "X-Corp-".
func newHeaderStripper(extra []string) (*headerStripper, error) {
	hs := &headerStripper{prefixes: stripFamilies}
	hs.exact = append(hs.exact, identityHeaderNames...)
	hs.exact = append(hs.exact, forwardedHeaderNames...)
	hs.exact = append(hs.exact, clientIdentityNames...)
	for _, e := range extra {
		name, family := strings.CutSuffix(e, "*")
		if !validHeaderName(name) {
			return nil, fmt.Errorf("%w %q: want a header name, or a prefix ending in \"*\"", errStripHeader, e)
		}
		n := strings.ReplaceAll(asciiLower(name), "_", "-")
		if family {
			hs.prefixes = append(hs.prefixes[:len(hs.prefixes):len(hs.prefixes)], n)
		} else {
			hs.exact = append(hs.exact, n)
		}
	}
	return hs, nil
}

// strip deletes every matching key. It walks the map itself, so keys put
// there directly in any spelling (h["x_forwarded_user"]) go too.
func (hs *headerStripper) strip(h http.Header) {
	for k := range h {
		if hs.matches(k) {
			delete(h, k)
		}
	}
}

func (hs *headerStripper) matches(k string) bool {
	if headerKeyIn(k, hs.exact) {
		return true
	}
	for _, p := range hs.prefixes {
		if headerKeyHasPrefix(k, p) {
			return true
		}
	}
	return false
}

// validHeaderName: an RFC 9110 token, which '_' is.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
