package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	userRE   = regexp.MustCompile(`name="user" id="user-0" value="([^"]+)"`)
	actionRE = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
)

// TestDemoGitHubAndOIDC signs in through the demo's fourth and fifth
// buttons, GitHub (goth) and the generic OpenID Connect issuer, the way a
// browser does: start, the fake's consent form, the callback, the app.
func TestDemoGitHubAndOIDC(t *testing.T) {
	base := startDemo(t)
	for _, id := range []string{"github", "corp"} {
		t.Run(id, func(t *testing.T) {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
			resp, err := c.Get(base + "/oauth2/start/" + id + "?rd=/")
			if err != nil {
				t.Fatal(err)
			}
			page := readBody(t, resp)
			form := url.Values{"action": {"allow"}}
			for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
				form.Set(m[1], htmlUnescape(m[2]))
			}
			u, a := userRE.FindStringSubmatch(page), actionRE.FindStringSubmatch(page)
			if u == nil || a == nil {
				t.Fatalf("no consent form at %s: %.300s", resp.Request.URL, page)
			}
			form.Set("user", u[1])
			action, _ := resp.Request.URL.Parse(htmlUnescape(a[1]))
			resp, err = c.PostForm(action.String(), form)
			if err != nil {
				t.Fatal(err)
			}
			app := readBody(t, resp)
			if resp.StatusCode != 200 || !strings.Contains(app, id+":"+u[1]) {
				t.Errorf("after consent: %d at %s, the app does not show %s:%s: %.300s", resp.StatusCode, resp.Request.URL, id, u[1], app)
			}
		})
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'").Replace(s)
}
