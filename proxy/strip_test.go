package proxy

import (
	"bufio"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func testStripper(t testing.TB) *headerStripper {
	t.Helper()
	hs, err := newHeaderStripper([]string{"X-Corp-User", "x_legacy_*"})
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

// TestStripClientHeaders (issue 8 item 5): identity-style headers of other
// gateways and the forwarding family go in every spelling, with the
// operator's additions; look-alike names that are not in a family stay.
func TestStripClientHeaders(t *testing.T) {
	strip := []string{
		// The list.
		"Remote-User", "X-Remote-User", "X-Webauth-User", "X-Auth-User", "X-User", "X-Email",
		"X-Forwarded-Scheme", "X-Original-Host", "X-Host", "True-Client-IP", "X-Real-IP",
		// Their spellings and relatives.
		"remote_user", "REMOTE-USER", "Remote-Email", "Remote-Groups", "Remote-Name", "x_remote_user",
		"X-Remote-Group", "X-WEBAUTH-USER", "x_webauth_email", "X-WebAuth-Name", "x_auth_user",
		"X-Auth-Email", "x_user", "X-USER", "x_email", "X-Username", "X-Preferred-Username",
		"X-Forwarded-Protocol", "X_Forwarded_Scheme", "x-original-url", "X-Original-URI",
		"X-Original-Method", "X-Original-Forwarded-For", "x_host", "X-HTTP-Host", "true_client_ip",
		"X-Client-IP", "CF-Connecting-IP", "Fastly-Client-IP", "X-Cluster-Client-IP", "X-Real_IP",
		"X-MS-CLIENT-PRINCIPAL-NAME", "X-MS-Client-Principal-Id", "X-MS-Client-Principal",
		"X-Goog-Authenticated-User-Email", "X-Goog-IAP-JWT-Assertion", "X-Amzn-Oidc-Identity",
		"X-Amzn-Oidc-Data", "Cf-Access-Authenticated-User-Email", "X-SSL-Client-Cert", "SSL_CLIENT_S_DN",
		"X-Client-Cert", "X-Forwarded-Client-Cert", "X-Forwarded-User", "X-Auth-Request-Email",
		// server.strip_headers additions.
		"X-Corp-User", "x_corp_user", "X-Legacy-Anything", "x_LEGACY_id",
	}
	keep := []string{
		"Accept", "Cookie", "Authorization", "X-Request-Id", "X-Users", "X-User-Agent-Hint",
		"X-Emails", "X-Hosts", "Remote", "X-Remote", "X-Corp-Users", "X-Legacy", "X-Auth-Token",
		"X-Forwarded-Users", "X-Originals", "User-Agent", "X-Requested-With",
	}
	h := http.Header{}
	for _, k := range strip {
		h[k] = []string{"admin", "root"}
	}
	for _, k := range keep {
		h[k] = []string{"v"}
	}
	testStripper(t).strip(h)
	for _, k := range strip {
		if _, ok := h[k]; ok {
			t.Errorf("%s survived", k)
		}
	}
	for _, k := range keep {
		if _, ok := h[k]; !ok {
			t.Errorf("%s was stripped", k)
		}
	}
}

// TestStripClientHeadersFromWire: duplicates and '_' spellings through
// net/http's parser.
func TestStripClientHeadersFromWire(t *testing.T) {
	raw := "GET / HTTP/1.1\r\nHost: gate.example.com\r\n" +
		"Remote-User: a\r\nremote-user: b\r\nRemote_User: c\r\nX-WEBAUTH-USER: d\r\nx_webauth_user: e\r\n" +
		"X-Email: f\r\nX-Email: g\r\nTrue-Client-IP: 1.1.1.1\r\nX-Keep: h\r\n\r\n"
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	testStripper(t).strip(r.Header)
	if len(r.Header) != 1 || r.Header.Get("X-Keep") != "h" {
		t.Errorf("after strip, header = %v, want only X-Keep", r.Header)
	}
}

func TestNewHeaderStripperRefuses(t *testing.T) {
	for _, bad := range []string{"", "*", "X Corp", "X-Corp:", "X-Corp\r\n", "Ä"} {
		if _, err := newHeaderStripper([]string{bad}); !errors.Is(err, errStripHeader) {
			t.Errorf("newHeaderStripper(%q) = %v, want errStripHeader", bad, err)
		}
	}
}
