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
	sgRE     = regexp.MustCompile(`sg_[A-Za-z0-9_-]{22}`)
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
			resp, subject := consentAllow(t, c, resp)
			app := readBody(t, resp)
			if resp.StatusCode != 200 || !strings.Contains(app, id+":"+subject) {
				t.Errorf("after consent: %d at %s, the app does not show %s:%s: %.300s", resp.StatusCode, resp.Request.URL, id, subject, app)
			}
		})
	}
}

// consentAllow answers a fake provider's consent page (resp) as its first
// user, the way a browser submits the form, and returns where that led and
// the user's subject.
func consentAllow(t *testing.T, c *http.Client, resp *http.Response) (*http.Response, string) {
	t.Helper()
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
	next, err := c.PostForm(action.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	return next, u[1]
}

// TestDemoConnectSecondProvider: the demo runs with accounts, so a person
// signed in with Kakao connects Naver from /oauth2/ and the app then sees
// one gateway user with both identities.
func TestDemoConnectSecondProvider(t *testing.T) {
	base := startDemo(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Get(base + "/oauth2/start/kakao?rd=/")
	if err != nil {
		t.Fatal(err)
	}
	resp, kakao := consentAllow(t, c, resp)
	first := readBody(t, resp)
	user := sgRE.FindString(first)
	if user == "" {
		t.Fatalf("after the Kakao login the app shows no gateway user: %.500s", first)
	}
	if resp, err = c.Get(base + "/oauth2/connect/naver"); err != nil {
		t.Fatal(err)
	}
	resp, naver := consentAllow(t, c, resp)
	readBody(t, resp)
	if resp, err = c.Get(base + "/"); err != nil {
		t.Fatal(err)
	}
	app := readBody(t, resp)
	for _, want := range []string{user, "kakao:" + kakao, "naver:" + naver} {
		if !strings.Contains(app, want) {
			t.Errorf("after connecting Naver the app does not show %q: %.800s", want, app)
		}
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
