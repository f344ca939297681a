package proxy_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The test browser: a cookie-keeping client, and the sign-in flow it runs through a gateway.

// browser is a cookie-keeping client that follows redirects by hand so a
// test can see every hop.
type browser struct {
	t    testing.TB
	c    *http.Client
	hops []string
	lang string
}

func newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends one request as a browser navigation would.
func (b *browser) do(method, u string, body io.Reader) *http.Response {
	b.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, u, body)
	if err != nil {
		b.t.Fatalf("request %s %s: %v", method, u, err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	return resp
}

// get follows redirects (up to 10) and returns the last response and its body.
func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	b.hops = b.hops[:0]
	for range 10 {
		b.hops = append(b.hops, u)
		resp := b.do(http.MethodGet, u, nil)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
			return resp, string(body)
		}
		next, err := resp.Request.URL.Parse(loc)
		if err != nil {
			b.t.Fatalf("bad Location %q: %v", loc, err)
		}
		u = next.String()
	}
	b.t.Fatalf("too many redirects: %v", b.hops)
	return nil, ""
}

// login runs the whole flow for a protected URL with the fake set to
// approve userID, and returns the upstream's echo of the final request.
func (g *gateway) login(b *browser, provider, userID, target string) (*http.Response, echo) {
	g.t.Helper()
	g.fakes[provider].AutoApprove(userID)
	resp, _ := b.get(target)
	if resp.StatusCode != http.StatusOK {
		g.t.Fatalf("GET %s: landed with status %d after hops %v", target, resp.StatusCode, b.hops)
	}
	// hops: target → sign_in page (200, a page, not followed automatically)
	_ = resp
	return g.clickProvider(b, provider)
}

// clickProvider presses the provider's button on the sign-in page the
// browser is on, and follows the flow to the end.
func (g *gateway) clickProvider(b *browser, provider string) (*http.Response, echo) {
	g.t.Helper()
	last := b.hops[len(b.hops)-1]
	u, _ := url.Parse(last)
	if u.Path != "/oauth2/sign_in" {
		g.t.Fatalf("expected to land on the sign-in page, got %s (hops %v)", last, b.hops)
	}
	start := g.URL + "/oauth2/start/" + provider + "?" + url.Values{"rd": {u.Query().Get("rd")}}.Encode()
	resp, body := b.get(start)
	var e echo
	if resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			g.t.Fatalf("decode echo: %v", err)
		}
	}
	return resp, e
}
