package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
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
}

// moreForwardedNames are forwarding spellings beyond forwardedHeaderNames:
// scheme and host overrides some frameworks believe, and client-IP headers
// of CDNs.
var moreForwardedNames = []string{
	"x-forwarded-scheme", "x-forwarded-protocol", "x-forwarded-method", "x-forwarded-by", "x-forwarded-client-cert",
	"x-forwarded-client-ip", "x-url-scheme", "x-scheme", "x-host", "x-http-host",
	"true-client-ip", "x-client-ip", "x-cluster-client-ip", "cf-connecting-ip",
	"fastly-client-ip", "x-proxyuser-ip",
}

// identityFamilies are name prefixes of identity headers whose every
// member goes (lowercase, '-' separated).
var identityFamilies = []string{
	authRequestPrefix, // X-Auth-Request-*: the forward-auth answers
	"remote-",         // Remote-User, Remote-Email, Remote-Groups, Remote-Name
	"x-remote-",       // X-Remote-User, X-Remote-Group
	"x-webauth-",      // X-WEBAUTH-USER, -EMAIL, -NAME
	"x-ms-client-principal",
	"x-goog-authenticated-user-",
	"x-goog-iap-",
	"x-amzn-oidc-",
	"cf-access-",
	"x-ssl-client-",
	"ssl-client-",
}

// forwardedFamilies: X-Original-URL, -URI, -Host, -Method, -Forwarded-For.
var forwardedFamilies = []string{"x-original-"}

// headerStripper removes client copies of the gateway's identity headers,
// the forwarding family and the families above, plus the operator's
// additions (server.strip_headers). Immutable after newHeaderStripper.
type headerStripper struct {
	exact    []string // lowercase, '-' separated
	prefixes []string
	// byLen indexes exact by length: a header is compared only with the
	// names of its own length (this runs for every header of every
	// proxied request).
	byLen [maxIndexedName + 1][]string
	long  []string // exact names longer than maxIndexedName
	// identity is the part that names a user (no forwarding headers):
	// forward-auth refuses requests that carry one (forgedIdentity).
	identity *headerStripper
}

var errStripHeader = errors.New("strip header")

// newHeaderStripper builds the stripper with extra names: "X-Corp-User"
// for one header, "X-Corp-*" for every header starting with "X-Corp-".
func newHeaderStripper(extra []string) (*headerStripper, error) {
	id := &headerStripper{}
	id.exact = slices.Concat(identityHeaderNames, clientIdentityNames)
	id.prefixes = slices.Clone(identityFamilies)
	// The operator's additions count as identity: clients must not send
	// them, and forward-auth cannot strip them either.
	for _, e := range extra {
		name, family := strings.CutSuffix(e, "*")
		if !validHeaderName(name) {
			return nil, fmt.Errorf("%w %q: want a header name, or a prefix ending in \"*\"", errStripHeader, e)
		}
		n := strings.ReplaceAll(asciiLower(name), "_", "-")
		if family {
			id.prefixes = append(id.prefixes, n)
		} else {
			id.exact = append(id.exact, n)
		}
	}
	hs := &headerStripper{
		exact:    slices.Concat(id.exact, forwardedHeaderNames, moreForwardedNames),
		prefixes: slices.Concat(id.prefixes, forwardedFamilies),
		identity: id,
	}
	hs.index()
	id.index()
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

// forgedIdentity returns the first client header that names a user (any
// spelling), or "". A front proxy in forward-auth mode passes the client's
// headers to /oauth2/auth and then its own to the app; nginx cannot strip
// a header family (X-Auth-Request-*), so the gateway refuses the request
// instead of letting a forged one through.
func (hs *headerStripper) forgedIdentity(h http.Header) string {
	for k := range h {
		if hs.identity.matches(k) {
			return k
		}
	}
	return ""
}

// maxIndexedName bounds byLen; longer names are compared one by one.
const maxIndexedName = 48

func (hs *headerStripper) index() {
	for _, n := range hs.exact {
		if len(n) > maxIndexedName {
			hs.long = append(hs.long, n)
			continue
		}
		hs.byLen[len(n)] = append(hs.byLen[len(n)], n)
	}
}

func (hs *headerStripper) matches(k string) bool {
	names := hs.long
	if len(k) <= maxIndexedName {
		names = hs.byLen[len(k)]
	}
	if headerKeyIn(k, names) {
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
