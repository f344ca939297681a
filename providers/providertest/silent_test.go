package providertest

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestSilentSignIn: prompt=none signs a returning user in without a page,
// and answers login_required or consent_required otherwise, as Kakao and
// Google do. Naver has no prompt and shows its page.
func TestSilentSignIn(t *testing.T) {
	for _, kind := range []string{Kakao, Google} {
		t.Run(kind, func(t *testing.T) {
			f, _ := start(t, kind, "")
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			silent := func() url.Values {
				t.Helper()
				resp, err := c.Get(f.Endpoints().AuthURL + "?" + authParamsFor(kind, url.Values{"prompt": {"none"}}).Encode())
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusFound {
					t.Fatalf("prompt=none: %d", resp.StatusCode)
				}
				loc, _ := url.Parse(resp.Header.Get("Location"))
				return loc.Query()
			}
			if q := silent(); q.Get("error") != "login_required" || q.Get("state") != "st-123" || q.Has("code") {
				t.Errorf("not signed in: %v, want error=login_required", q)
			}
			// The person allows on the consent page: the fake remembers them.
			user := DefaultUsers(kind)[0].ID
			form := authParamsFor(kind, url.Values{"action": {"allow"}, "user": {user}})
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, f.Endpoints().AuthURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			q := silent()
			if q.Get("code") == "" || q.Has("error") {
				t.Fatalf("returning user: %v, want a code", q)
			}
			if got := f.Requests(); len(got) == 0 {
				t.Fatal("no requests recorded")
			}
			f.ForgetConsent(user)
			if q := silent(); q.Get("error") != "consent_required" {
				t.Errorf("after the consent was revoked: %v, want error=consent_required", q)
			}
			// Another client of the same fake was never agreed to.
			other := authParamsFor(kind, url.Values{"prompt": {"none"}, "client_id": {"other"}})
			if r := get(t, f.Endpoints().AuthURL+"?"+other.Encode(), ""); r.status == http.StatusFound {
				t.Errorf("unknown client got a redirect: %v", r.header)
			}
		})
	}
	f, _ := start(t, Naver, "")
	if r := get(t, f.Endpoints().AuthURL+"?"+authParamsFor(Naver, url.Values{"prompt": {"none"}}).Encode(), ""); r.status != http.StatusOK {
		t.Errorf("naver prompt=none: %d, want its consent page", r.status)
	}
}

func TestConsentPageLanguage(t *testing.T) {
	for _, tc := range []struct{ kind, accept, want string }{
		{Kakao, "", "카카오계정으로 로그인"},
		{Kakao, "en-US,en;q=0.9", "Log in with Kakao Account"},
		{Naver, "en", "Log in with NAVER ID"},
		{Google, "", "Choose an account"},
		{Google, "ko-KR,ko;q=0.9", "계정 선택"},
		{Google, "fr", "Choose an account"},
	} {
		f, _ := start(t, tc.kind, "")
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, f.Endpoints().AuthURL+"?"+authParamsFor(tc.kind, nil).Encode(), nil)
		req.Header.Set("Accept-Language", tc.accept)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "<h1>"+tc.want+"</h1>") {
			t.Errorf("%s %q: page lacks %q", tc.kind, tc.accept, tc.want)
		}
	}
}
