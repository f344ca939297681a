package proxy_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/proxy"
)

// spoofLines claim an identity in every spelling a client can put on the
// wire; they are all sent in one request.
var spoofLines = []string{
	"X-Forwarded-User: admin", "x-forwarded-user: admin", "X-FORWARDED-USER: admin",
	"X_Forwarded_User: admin", "x_forwarded_user: admin", "X-Forwarded_User: admin",
	"X-Forwarded-User: admin", "X-Forwarded-User: kakao:1, admin", "X-Forwarded-User:admin",
	"X-Forwarded-User:\tadmin", "X-Forwarded-User: ",
	"X-Auth_Request_User: admin", "x-auth-request-user: admin", "X_AUTH_REQUEST_EMAIL: admin@example.com",
	"X-Auth-Request-Groups: admins", "X-Auth-Request-Access-Token: t0ken-from-client",
	"X-Auth-Request-Preferred-Username: admin", "x_auth_request_provider: google",
	"X-Forwarded-Email: boss@example.com", "x_forwarded_email: boss@example.com",
	"X-Forwarded-Email-Verified: true", "x_forwarded_email_verified: true", "X-Forwarded-Email_Verified: true",
	"X-Forwarded-Preferred-Username: admin", "X_Forwarded_Preferred_Username: admin",
	"X-Forwarded-Provider: google", "X-Forwarded-Access-Token: t0ken-from-client",
	"x_forwarded_access_token: t0ken-from-client", "X-Forwarded-Groups: admins", "x_forwarded_groups: admins",
	// Issue 8 item 5: other gateways' identity headers apps trust.
	"Remote-User: admin", "remote_user: admin", "REMOTE-EMAIL: boss@example.com", "Remote-Groups: admins",
	"X-Remote-User: admin", "x_remote_user: admin", "X-Webauth-User: admin", "X-WEBAUTH-USER: admin",
	"x_webauth_email: boss@example.com", "X-Auth-User: admin", "x_auth_user: admin", "X-User: admin",
	"X-USER: admin", "x_user: admin", "X-Email: boss@example.com", "x_email: boss@example.com",
	"X-Username: admin", "X-MS-CLIENT-PRINCIPAL-NAME: admin", "X-Goog-Authenticated-User-Email: accounts.google.com:boss@example.com",
	"X-Amzn-Oidc-Identity: admin", "Cf-Access-Authenticated-User-Email: boss@example.com", "X-SSL-Client-S-DN: CN=admin",
}

// oddSpoofLines are spellings the HTTP parser may refuse; each goes alone,
// and a refusal (4xx, or the connection closed) is as good as stripping.
var oddSpoofLines = []string{
	"X-Forwarded-User: admin\r\n continued", "X-Forwarded-User : admin", "X-Forwarded-User\t: admin",
	" X-Forwarded-User: admin", "X-Forwarded-User: a\x00dmin", "X-Forwarded-User: \xed\x99\x8d",
	"X-Forwarded-User:: admin", "X-Forwarded-User\x00: admin", "X-Forwarded-User-: admin",
}

// identityName reports whether a header name, compared like the gateway
// does (case-insensitive, '_' as '-'), is one only the gateway may set.
func identityName(k string) bool {
	n := strings.ReplaceAll(strings.ToLower(k), "_", "-")
	switch n {
	case "x-forwarded-user", "x-forwarded-email", "x-forwarded-email-verified", "x-forwarded-preferred-username",
		"x-forwarded-provider", "x-forwarded-access-token", "x-forwarded-groups",
		"x-auth-user", "x-user", "x-email", "x-username":
		return true
	}
	for _, p := range []string{"x-auth-request-", "remote-", "x-remote-", "x-webauth-", "x-ms-client-principal",
		"x-goog-authenticated-", "x-amzn-oidc-", "cf-access-", "x-ssl-client-"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// checkIdentity compares the identity headers an upstream got with want
// (canonical name → the one value; nil: signed out, none at all).
func checkIdentity(t *testing.T, label string, got http.Header, want map[string]string) {
	t.Helper()
	for k, vs := range got {
		if !identityName(k) {
			continue
		}
		if w, ok := want[k]; !ok || len(vs) != 1 || vs[0] != w {
			t.Errorf("%s: upstream got %s = %q, want %q", label, k, vs, want[k])
		}
	}
	for k, w := range want {
		if got.Get(k) != w {
			t.Errorf("%s: upstream %s = %q, want %q", label, k, got.Get(k), w)
		}
	}
}

// TestAttackHeaderSmuggling sends spoofed identity headers on raw TCP, so
// spellings and duplicates reach the gateway exactly as written, signed in
// and signed out, to a public and a protected route. The upstream sees the
// gateway's identity, one copy each, or none.
func TestAttackHeaderSmuggling(t *testing.T) {
	a := newAttackGateway(t, gatewayConfig{})
	u := providertest.DefaultUsers("kakao")[0]
	_, cookie := a.signIn(t, "kakao", u.ID)
	mine := map[string]string{
		"X-Forwarded-User":               "kakao:" + u.ID,
		"X-Forwarded-Email":              u.Email,
		"X-Forwarded-Email-Verified":     "true",
		"X-Forwarded-Preferred-Username": url.PathEscape(u.Nickname),
		"X-Forwarded-Provider":           "kakao",
	}
	cases := []struct {
		name, target, cookie string
		up                   *upstreamLog
		want                 map[string]string
	}{
		{"signed in, protected", "/private/x", cookie, a.private, mine},
		{"signed in, public", "/public/x", cookie, a.public, mine},
		{"signed out, public", "/public/x", "", a.public, nil},
	}
	for _, c := range cases {
		var lines [][]string
		lines = append(lines, spoofLines)
		for _, l := range oddSpoofLines {
			lines = append(lines, []string{l})
		}
		for _, set := range lines {
			hs := append([]string(nil), set...)
			if c.cookie != "" {
				hs = append(hs, "Cookie: "+c.cookie)
			}
			resp := rawRequest(t, a.addr, rawGet(c.target, hs...))
			got := c.up.take()
			label := c.name + " " + strings.Join(set, " | ")
			if resp.Status >= 500 {
				t.Errorf("%s: status %d", label, resp.Status)
			}
			if resp.Status != http.StatusOK {
				if len(got) > 0 || len(set) == len(spoofLines) {
					t.Errorf("%s: status %d with %d upstream requests", label, resp.Status, len(got))
				}
				continue
			}
			if len(got) != 1 {
				t.Fatalf("%s: %d upstream requests, want 1", label, len(got))
			}
			checkIdentity(t, label, got[0].Header, c.want)
		}
	}
	if n := len(a.private.take()); n > 0 {
		t.Errorf("%d stray requests reached the protected upstream", n)
	}
}

// TestAttackForwardedHeaders: X-Forwarded-For/-Proto/-Host/-Uri and their
// relatives are believed only from server.trusted_proxies, and never in a
// spelling the gateway does not read itself.
func TestAttackForwardedHeaders(t *testing.T) {
	spoof := []string{
		"X-Forwarded-For: 203.0.113.9", "X-Forwarded-Proto: https", "X-Forwarded-Host: " + attackUpstreamHost,
		"X-Forwarded-Uri: /elsewhere?y=1", "X-Forwarded-Port: 443", "Forwarded: for=198.51.100.1;host=evil.example;proto=https",
		"X-Real-IP: 198.51.100.1", "X-Original-URL: /private/admin", "X-Rewrite-URL: /private/admin",
		"X-Forwarded-Prefix: /evil", "X_Forwarded_Host: evil.example", "x_forwarded_for: 198.51.100.2",
		"X-Forwarded_Proto: http", "X-Original-Uri: /private/admin", "Front-End-Https: on",
		// Issue 8 item 5.
		"X-Forwarded-Scheme: https", "X-Original-Host: evil.example", "X-Host: evil.example",
		"True-Client-IP: 198.51.100.3", "X_Real_IP: 198.51.100.4", "X-Client-IP: 198.51.100.5",
		"CF-Connecting-IP: 198.51.100.6", "X-Forwarded-Protocol: https", "X-HTTP-Host: evil.example",
	}
	never := []string{"Forwarded", "X-Forwarded-Uri", "X-Forwarded-Port", "X-Original-Url",
		"X-Rewrite-Url", "X-Forwarded-Prefix", "X_forwarded_host", "X_forwarded_for", "X-Forwarded_proto",
		"X-Original-Uri", "Front-End-Https", "X-Forwarded-Scheme", "X-Original-Host", "X-Host",
		"True-Client-Ip", "X_real_ip", "X-Client-Ip", "Cf-Connecting-Ip", "X-Forwarded-Protocol", "X-Http-Host"}
	for _, tc := range []struct {
		name                string
		trusted             []string
		xff, proto, xfh, rd string // what the upstream and the sign-in link must show
	}{
		// rawGet sends "Host: 127.0.0.1": untrusted, that is the host; it is
		// no route's host, so the sign-in link names the public URL ("").
		{"untrusted peer", nil, "127.0.0.1", "http", "127.0.0.1", ""},
		{"trusted peer", []string{"127.0.0.1/32"}, "203.0.113.9, 127.0.0.1", "https", attackUpstreamHost,
			"https://" + attackUpstreamHost + "/elsewhere?y=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAttackGateway(t, gatewayConfig{trusted: tc.trusted})
			resp := rawRequest(t, a.addr, rawGet("/public/x", spoof...))
			got := a.public.take()
			if resp.Status != http.StatusOK || len(got) != 1 {
				t.Fatalf("public request: status %d, %d upstream requests", resp.Status, len(got))
			}
			h := got[0].Header
			// X-Real-IP is the gateway's: the client it believes.
			realIP := tc.xff
			if i := strings.IndexByte(realIP, ','); i >= 0 {
				realIP = realIP[:i]
			}
			for k, want := range map[string]string{"X-Forwarded-For": tc.xff, "X-Forwarded-Proto": tc.proto,
				"X-Forwarded-Host": tc.xfh, "X-Real-Ip": realIP} {
				if v := h.Values(k); len(v) != 1 || v[0] != want {
					t.Errorf("upstream %s = %q, want [%q]", k, v, want)
				}
			}
			for _, k := range never {
				if v, ok := h[k]; ok {
					t.Errorf("upstream got the client's %s: %q", k, v)
				}
			}
			// The sign-in link of an API client names the URL it asked for,
			// as the trusted proxy (or the connection) tells it.
			api := rawRequest(t, a.addr, strings.Replace(rawGet("/private/x", spoof...), "Accept: text/html", "Accept: application/json", 1))
			var body struct {
				SignInURL string `json:"sign_in_url"`
			}
			if api.Status != http.StatusUnauthorized || json.Unmarshal([]byte(api.Body), &body) != nil {
				t.Fatalf("API request: status %d body %.200s", api.Status, api.Body)
			}
			si, _ := url.Parse(body.SignInURL)
			want := tc.rd
			if want == "" {
				want = a.URL + "/private/x"
			}
			if got := si.Query().Get("rd"); got != want {
				t.Errorf("sign_in_url rd = %q, want %q", got, want)
			}
			if !strings.HasPrefix(body.SignInURL, a.URL+"/oauth2/sign_in?") {
				t.Errorf("sign_in_url = %q, want it on the public URL", body.SignInURL)
			}
		})
	}
}

// TestAttackTrailers: identity headers sent as request trailers after a
// chunked body never reach the upstream with a value.
func TestAttackTrailers(t *testing.T) {
	a := newAttackGateway(t, gatewayConfig{})
	req := "POST /public/x HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n" +
		"Trailer: X-Forwarded-User, X-Auth-Request-Email\r\nConnection: close\r\n\r\n" +
		"3\r\nabc\r\n0\r\nX-Forwarded-User: admin\r\nX-Auth-Request-Email: boss@example.com\r\nx_forwarded_user: admin\r\n\r\n"
	resp := rawRequest(t, a.addr, req)
	got := a.public.take()
	if resp.Status != http.StatusOK || len(got) != 1 {
		t.Fatalf("status %d, %d upstream requests", resp.Status, len(got))
	}
	if got[0].Body != "abc" {
		t.Errorf("body = %q, want abc", got[0].Body)
	}
	checkIdentity(t, "headers", got[0].Header, nil)
	for k, vs := range got[0].Trailer {
		for _, v := range vs {
			if identityName(k) && v != "" {
				t.Errorf("trailer %s = %q reached the upstream", k, v)
			}
		}
	}
}

// TestAttackRequestSmuggling: classic CL.TE and TE.CL desync payloads on
// a public route whose upstream also serves the protected routes. The
// gateway re-frames every request it forwards, so the upstream never sees
// the smuggled request to /private.
func TestAttackRequestSmuggling(t *testing.T) {
	shared := newUpstreamLog(t, "shared")
	g := newGateway(t, gatewayConfig{routes: func(string) []proxy.Route {
		return []proxy.Route{
			{Name: "public", Path: "/public", URL: shared.url(), Public: true},
			{Name: "app", Path: "/", URL: shared.url()},
		}
	}})
	addr := strings.TrimPrefix(g.URL, "http://")
	inner := "GET /private/smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-User: admin\r\n\r\n"
	head := "POST /public/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	payloads := map[string]string{
		"CL.TE":          head + "Content-Length: 200\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + inner,
		"TE.CL":          head + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n5c\r\n" + inner + "\r\n0\r\n\r\n",
		"two CL":         head + "Content-Length: 0\r\nContent-Length: 84\r\n\r\n" + inner,
		"xchunked":       head + "Transfer-Encoding: xchunked\r\nContent-Length: 84\r\n\r\n" + inner,
		"TE space colon": head + "Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + inner,
		"TE twice":       head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n" + inner,
		"TE list":        head + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + inner,
		"TE obs-fold":    head + "Transfer-Encoding:\r\n chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + inner,
		"chunk ext":      head + "Transfer-Encoding: chunked\r\n\r\n0;x=\"\r\n\r\n" + inner + "\"\r\n\r\n",
		"bad chunk size": head + "Transfer-Encoding: chunked\r\n\r\n0x5c\r\n" + inner + "\r\n0\r\n\r\n",
		"huge chunk":     head + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffff1\r\n" + inner,
		"GET with body":  "GET /public/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 84\r\n\r\n" + inner,
		"LF only":        "GET /public/x HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 84\n\n" + inner,
		"pipelined":      "GET /public/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + inner,
	}
	for name, p := range payloads {
		out := rawExchange(t, addr, p)
		for _, line := range strings.Split(out, "\r\n") {
			// A bad or cut-short body is the client's fault: 4xx, not 5xx;
			// except 501, which RFC 9112 asks for an unknown coding.
			if strings.HasPrefix(line, "HTTP/1.1 5") && !strings.HasPrefix(line, "HTTP/1.1 501") {
				t.Errorf("%s: the gateway answered %q", name, line)
			}
		}
		for _, r := range shared.take() {
			if strings.HasPrefix(r.Path, "/private") {
				t.Errorf("%s: the upstream got %s %s without a session", name, r.Method, r.RequestURI)
			}
			checkIdentity(t, name, r.Header, nil)
		}
	}
}

// rawExchange writes p, half-closes the connection and returns everything
// the gateway answers until it closes.
func rawExchange(t *testing.T, addr, p string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, p)
	_ = c.(*net.TCPConn).CloseWrite()
	out, _ := io.ReadAll(c)
	return string(out)
}
