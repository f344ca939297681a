package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/session"
)

// The answers every shipped front proxy must pass on as socialgate gave
// them: its error statuses, the linked identities, and refusals of forged
// headers.

// frontProxyExamples are the shipped forward-auth examples that run in a
// real server here (Traefik's is only parsed: it is not in Debian).
var frontProxyExamples = []struct {
	name  string
	start func(t *testing.T, addr, gateURL, appURL string)
}{
	{"nginx", startNginxExample},
	{"caddy", startCaddyExample},
}

// TestFrontProxyGatewayErrors runs the shipped nginx and Caddy examples in
// front of a socialgate that cannot say yes or no: each of its answers
// other than 2xx, 401 and 403 must reach the client with its own status,
// never as the 500 nginx's auth_request makes of them by itself. A
// client's ambiguous path is its mistake (400), a session store that is
// down an outage to wait out (503 with Retry-After), a gateway that is
// gone a 502; a 500 of the gateway's stays a 500.
func TestFrontProxyGatewayErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx and caddy")
	}
	for _, fp := range frontProxyExamples {
		t.Run(fp.name, func(t *testing.T) {
			app := nginxApp(t)
			addr := freeLoopbackAddr(t)
			store := miniredis.RunT(t)
			// fault, when not zero, replaces the gateway's answer to
			// /oauth2/auth: a status, or -1 for a connection cut before
			// any answer (a gateway that crashed).
			var fault atomic.Int32
			g := newGateway(t, gatewayConfig{trusted: []string{"127.0.0.0/8"}, routes: frontProxyRoutes(addr),
				store: "redis", redisAddr: store.Addr(),
				handler: func(h http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						switch f := fault.Load(); {
						case f == 0 || r.URL.Path != "/oauth2/auth":
							h.ServeHTTP(w, r)
						case f < 0:
							panic(http.ErrAbortHandler)
						default:
							w.WriteHeader(int(f))
						}
					})
				}})
			fp.start(t, addr, g.URL, app.URL)

			// A well-formed session cookie, so the gateway asks the store.
			rec := httptest.NewRecorder()
			g.cookies.WriteSession(rec, strings.Repeat("A", 43))
			session := rec.Result().Cookies()[0]
			get := func(path string, html bool) (*http.Response, string) {
				t.Helper()
				req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
				req.Header.Set("Accept", "application/json")
				if html {
					req.Header.Set("Accept", "text/html,*/*;q=0.8")
				}
				req.AddCookie(session)
				resp, err := (&http.Client{Timeout: 10 * time.Second,
					CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				return resp, string(body)
			}

			// "/%2561dmin" is /admin to an app that decodes twice: the
			// gateway refuses to judge it (while the store is still up).
			for _, html := range []bool{true, false} {
				if resp, body := get("/%2561dmin/x", html); resp.StatusCode != http.StatusBadRequest {
					t.Errorf("ambiguous path, html %t: %d, want 400: %.300s", html, resp.StatusCode, body)
				}
			}

			store.Close()
			for _, html := range []bool{true, false} {
				resp, body := get("/page", html)
				if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "5" ||
					resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Request-Id") == "" {
					t.Errorf("store down, html %t: %d, Retry-After %q, Cache-Control %q, X-Request-Id %q; want 503, 5, no-store and the gateway's request ID: %.300s",
						html, resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Cache-Control"), resp.Header.Get("X-Request-Id"), body)
				}
			}

			for _, c := range []struct {
				name   string
				fault  int32
				status int
			}{
				{"gateway gone", -1, http.StatusBadGateway},
				{"gateway's own 500", http.StatusInternalServerError, http.StatusInternalServerError},
			} {
				fault.Store(c.fault)
				if resp, body := get("/page", false); resp.StatusCode != c.status {
					t.Errorf("%s: %d, want %d: %.300s", c.name, resp.StatusCode, c.status, body)
				}
			}
		})
	}
}

// TestFrontProxyIdentities: with accounts, the app behind the shipped nginx
// and Caddy examples learns the linked identities (X-Forwarded-Identities,
// as socialgate's reverse proxy sends them), and never a client's own.
func TestFrontProxyIdentities(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx and caddy")
	}
	for _, fp := range frontProxyExamples {
		t.Run(fp.name, func(t *testing.T) {
			app := nginxApp(t)
			addr := freeLoopbackAddr(t)
			g := newGateway(t, gatewayConfig{trusted: []string{"127.0.0.0/8"}, routes: frontProxyRoutes(addr),
				accounts: session.AccountsOptions{Enabled: true}})
			fp.start(t, addr, g.URL, app.URL)
			base := "http://" + addr

			b := newBrowser(t)
			user := providertest.DefaultUsers("kakao")[0]
			resp, e := g.login(b, "kakao", user.ID, base+"/page")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("login through %s: %d, hops %v", fp.name, resp.StatusCode, b.hops)
			}
			check := func(label string, h http.Header) {
				t.Helper()
				if got := h.Values("X-Forwarded-Identities"); len(got) != 1 || got[0] != "kakao:"+user.ID {
					t.Errorf("%s: app got X-Forwarded-Identities %q, want kakao:%s", label, got, user.ID)
				}
				if got := h.Get("X-Forwarded-User"); !strings.HasPrefix(got, "sg_") {
					t.Errorf("%s: app got X-Forwarded-User %q, want the gateway user (sg_…)", label, got)
				}
				if got := h.Values("X-Auth-Request-Identities"); got != nil {
					t.Errorf("%s: app got X-Auth-Request-Identities %q", label, got)
				}
			}
			check("after login", e.Header)

			// A client's own identities: refused, or replaced by the gateway's.
			for _, k := range []string{"X-Forwarded-Identities", "x-forwarded-identities", "X-Auth-Request-Identities"} {
				sendForged(t, b, base+"/page", k, "google:forged", check)
			}
		})
	}
}

// sendForged asks for target with a client-sent header name: value (spelled
// as given, so "_" and case variants reach the front proxy as they are). The
// answer must be a refusal (403), or the app's view, which check judges.
func sendForged(t *testing.T, b *browser, target, name, value string, check func(string, http.Header)) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	req.Header[name] = []string{value}
	req.Header.Set("Accept", "text/html")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusForbidden:
	case http.StatusOK:
		var fe echo
		if err := json.Unmarshal(body, &fe); err != nil {
			t.Fatalf("forged %s: %v", name, err)
		}
		check("forged "+name, fe.Header)
	default:
		t.Errorf("forged %s: status %d", name, resp.StatusCode)
	}
}
