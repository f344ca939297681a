package proxy_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/proxy"
)

// webviewUAs are real in-app browser User-Agents and the link each page
// must offer to leave the webview ("" = the copy-link field instead).
var webviewUAs = []struct{ name, ua, reopen string }{
	{"kakaotalk android", "Mozilla/5.0 (Linux; Android 13; SM-S911N Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36;KAKAOTALK 2610420", "kakaotalk://web/openExternal?url="},
	{"kakaotalk ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 KAKAOTALK 10.4.3", "kakaotalk://web/openExternal?url="},
	{"naver android", "Mozilla/5.0 (Linux; Android 12; SM-G991N Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/114.0.5735.196 Mobile Safari/537.36 NAVER(inapp; search; 2000; 12.7.1)", "intent://"},
	{"naver ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 NAVER(inapp; search; 1000; 11.18.2; 14PRO)", ""},
	{"line ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/13.12.0", "openExternalBrowser=1"},
	{"instagram android", "Mozilla/5.0 (Linux; Android 13; SM-S908N Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/114.0.5735.196 Mobile Safari/537.36 Instagram 290.0.0.13.76 Android (33/13; 450dpi; 1080x2316; samsung; SM-S908N; b0q; qcom; ko_KR; 493119760)", "intent://"},
	{"instagram ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 289.0.0.17.118 (iPhone14,5; iOS 16_5; ko_KR; ko; scale=3.00; 1170x2532; 489069735)", ""},
	{"facebook ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/16.5;FBSS/3;FBID/phone;FBLC/ko_KR;FBOP/5]", ""},
	{"facebook android", "Mozilla/5.0 (Linux; Android 13; SM-S918N Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/114.0.5735.196 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/421.0.0.33.47;]", "intent://"},
}

// getAs fetches u as a browser with the given User-Agent.
func getAs(t *testing.T, u, ua, lang string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept-Language", lang)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var hrefs = regexp.MustCompile(`href="([^"]*)"`)

// TestSignInInAppBrowsers: each webview gets its way out to the system
// browser, for this very page and its deep link, and never a plain link to
// Google's login, which Google refuses in webviews.
func TestSignInInAppBrowsers(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	rd := g.URL + "/app/보고서?id=3&q=%ED%95%9C"
	page := g.URL + "/oauth2/sign_in?" + url.Values{"rd": {rd}}.Encode()
	for _, tc := range webviewUAs {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := getAs(t, page, tc.ua, "ko-KR")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if !strings.Contains(body, "다른 브라우저로 열어 주세요") {
				t.Error("no explanation")
			}
			var links []string
			for _, m := range hrefs.FindAllStringSubmatch(body, -1) {
				links = append(links, html.UnescapeString(m[1]))
			}
			for _, l := range links {
				if strings.HasPrefix(l, "/oauth2/start/google") || strings.Contains(l, g.URL+"/oauth2/start/google") && !strings.HasPrefix(l, "kakaotalk:") && !strings.HasPrefix(l, "intent:") && !strings.Contains(l, "openExternalBrowser=1") {
					t.Errorf("a plain Google link: %q", l)
				}
			}
			if tc.reopen == "" {
				if !strings.Contains(body, `id="copy-url"`) || !strings.Contains(body, `value="`+html.EscapeString(page)+`"`) {
					t.Errorf("no copy-link field for this page:\n%s", body)
				}
				if !strings.Contains(body, `data-provider="google" aria-disabled="true"`) {
					t.Error("Google's button is not shown as unavailable")
				}
				return
			}
			m := regexp.MustCompile(`id="reopen" href="([^"]*)"`).FindStringSubmatch(body)
			if m == nil || !strings.Contains(html.UnescapeString(m[1]), tc.reopen) {
				t.Fatalf("no reopen link with %q:\n%s", tc.reopen, body)
			}
			if back := pageOf(t, html.UnescapeString(m[1])); back != page {
				t.Errorf("reopen link %q leads to %q, want %q", m[1], back, page)
			}
			// Google's button leaves the webview for Google's login.
			m = regexp.MustCompile(`data-provider="google" href="([^"]*)"`).FindStringSubmatch(body)
			wantGoogle := g.URL + "/oauth2/start/google?" + url.Values{"rd": {rd}}.Encode()
			if m == nil || pageOf(t, html.UnescapeString(m[1])) != wantGoogle {
				t.Errorf("Google's button %q does not leave the webview for %q", m, wantGoogle)
			}
			// Kakao and Naver stay ordinary links inside the webview.
			for _, p := range []string{"kakao", "naver"} {
				want := "/oauth2/start/" + p + "?" + url.Values{"rd": {rd}}.Encode()
				if !contains(links, want) {
					t.Errorf("no plain %s link %q", p, want)
				}
			}
		})
	}
	// A real browser gets no banner and the plain Google link.
	_, body := getAs(t, page, "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", "ko")
	if strings.Contains(body, "inapp") || !strings.Contains(body, `href="/oauth2/start/google?`) {
		t.Errorf("a real browser got the in-app page:\n%s", body)
	}
}

// pageOf is the https(s) URL a reopen link opens.
func pageOf(t *testing.T, link string) string {
	t.Helper()
	switch {
	case strings.HasPrefix(link, "kakaotalk://"):
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		return u.Query().Get("url")
	case strings.HasPrefix(link, "intent://"):
		rest, ok := strings.CutSuffix(strings.TrimPrefix(link, "intent://"), "#Intent;scheme=http;end")
		if !ok {
			t.Fatalf("intent %q", link)
		}
		return "http://" + rest
	default:
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Del("openExternalBrowser")
		u.RawQuery = q.Encode()
		return u.String()
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestSignInNoDeadEnds: a signed-in browser is sent on from the sign-in
// page; sign-out says so on the next page; a cancelled consent says
// "cancelled" and offers the same deep link again.
func TestSignInNoDeadEnds(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	u := pickUser(t, "kakao", hangulWithEmail)
	b := newBrowser(t)
	b.lang = "ko"
	deep := g.URL + "/app/보고서?id=3"
	if resp, _ := g.login(b, "kakao", u.ID, deep); resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d (hops %v)", resp.StatusCode, b.hops)
	}
	resp := b.do(http.MethodGet, g.URL+"/oauth2/sign_in?"+url.Values{"rd": {deep}}.Encode(), nil)
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != g.URL+"/app/%EB%B3%B4%EA%B3%A0%EC%84%9C?id=3" {
		t.Errorf("signed in on the sign-in page: %d Location %q, want on to the deep link", resp.StatusCode, loc)
	}

	// Sign out; the page that follows says so, once.
	_, page := b.get(g.URL + "/oauth2/sign_out")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("no csrf on the sign-out page:\n%s", page)
	}
	resp = b.do(http.MethodPost, g.URL+"/oauth2/sign_out", strings.NewReader(url.Values{"csrf": {csrf[1]}, "rd": {deep}}.Encode()))
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	_, body := b.get(g.URL + "/app/보고서?id=3")
	if !strings.Contains(body, "로그아웃되었습니다.") {
		t.Errorf("no signed-out message after sign-out:\n%s", body)
	}
	if _, body := b.get(g.URL + "/oauth2/sign_in"); strings.Contains(body, "로그아웃되었습니다.") {
		t.Error("the signed-out message showed twice")
	}

	// Consent cancelled: said as such, with the deep link kept.
	g.fakes["kakao"].AutoApprove("")
	g.fakes["kakao"].DenyConsent(true)
	b.get(deep)
	resp, body = b.get(g.URL + "/oauth2/start/kakao?" + url.Values{"rd": {deepWire(g)}}.Encode())
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "<title>로그인이 취소되었습니다</title>") ||
		strings.Contains(body, "문제가 발생했습니다") {
		t.Errorf("cancelled consent: %d\n%s", resp.StatusCode, body)
	}
	wantRetry := `href="/oauth2/sign_in?rd=` + url.QueryEscape(deepWire(g)) + `"`
	if !strings.Contains(body, wantRetry) {
		t.Errorf("retry link lacks the deep link %s:\n%s", wantRetry, body)
	}
}

func deepWire(g *gateway) string { return g.URL + "/app/%EB%B3%B4%EA%B3%A0%EC%84%9C?id=3" }

// TestExpiredStateOffersSameDeepLink: a login started for a deep link
// whose state expired at the provider offers to start again for that link.
func TestExpiredStateOffersSameDeepLink(t *testing.T) {
	g := newGateway(t, gatewayConfig{})
	g.fakes["naver"].AutoApprove(pickUser(t, "naver", hangulWithEmail).ID)
	b := newBrowser(t)
	b.lang = "en"
	b.get(g.URL + "/app/보고서?id=3")
	start := g.URL + "/oauth2/start/naver?" + url.Values{"rd": {deepWire(g)}}.Encode()
	resp := b.do(http.MethodGet, start, nil) // → the provider
	resp.Body.Close()
	resp = b.do(http.MethodGet, resp.Header.Get("Location"), nil) // → back with a code
	resp.Body.Close()
	callback := resp.Header.Get("Location")
	g.now.Advance(11 * time.Minute)
	resp, body := b.get(callback)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("expired state: %d", resp.StatusCode)
	}
	if !strings.Contains(body, "Sign-in expired") || !strings.Contains(body, ">Sign in again</a>") {
		t.Errorf("expired state page:\n%s", body)
	}
	if want := `href="/oauth2/sign_in?rd=` + url.QueryEscape(deepWire(g)) + `"`; !strings.Contains(body, want) {
		t.Errorf("no retry for the same deep link (%s):\n%s", want, body)
	}
	// The English buttons stay short enough for one line at 360 px.
	for _, m := range regexp.MustCompile(`class="btn[^"]*"[^>]*>([^<]+)</a>`).FindAllStringSubmatch(body, -1) {
		if len(m[1]) > 16 {
			t.Errorf("button text %q is long enough to wrap on a phone", m[1])
		}
	}
}

// TestAppNameAndLogo: ui.app_name names the app; the logo is served with
// its content type and a CSP that runs nothing.
func TestAppNameAndLogo(t *testing.T) {
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><circle r="2" cx="2" cy="2"/></svg>`)
	g := newGateway(t, gatewayConfig{options: func(o *proxy.Options) {
		o.UI = proxy.UIOptions{AppName: "사내 위키", Logo: svg}
	}})
	for lang, want := range map[string]string{"ko": "<h1>사내 위키에 로그인</h1>", "en": "<h1>Sign in to 사내 위키</h1>"} {
		_, body := getAs(t, g.URL+"/oauth2/sign_in", "Mozilla/5.0", lang)
		if !strings.Contains(body, want) || !strings.Contains(body, `<img class="brand-logo" src="/oauth2/static/logo" alt="사내 위키">`) {
			t.Errorf("%s: page lacks %q or the logo:\n%s", lang, want, body)
		}
	}
	resp, body := getAs(t, g.URL+"/oauth2/static/logo", "Mozilla/5.0", "ko")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || body != string(svg) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("logo: %d %v %q", resp.StatusCode, resp.Header, body)
	}

	// A gateway without a logo has none to serve; a bad one is refused.
	g2 := newGateway(t, gatewayConfig{})
	if resp, _ := getAs(t, g2.URL+"/oauth2/static/logo", "", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("no logo configured: %d", resp.StatusCode)
	}
	if resp, _ := getAs(t, g2.URL+"/oauth2/static/nope.js", "", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown static file: %d", resp.StatusCode)
	}
	if _, err := proxy.CheckLogo([]byte("<html>")); err == nil {
		t.Error("an HTML logo was accepted")
	}
}

// TestForbiddenOffersAnotherAccount: a signed-in person the route does not
// allow gets a way to sign in with another account and come back to the
// same page, not a dead end.
func TestForbiddenOffersAnotherAccount(t *testing.T) {
	routes := func(upstream string) []proxy.Route {
		u, _ := url.Parse(upstream)
		return []proxy.Route{
			{Name: "app", Path: "/", URL: u},
			{Name: "naver-only", Path: "/work", URL: u, Allow: proxy.Allow{Providers: []string{"naver"}}},
		}
	}
	g := newGateway(t, gatewayConfig{routes: routes})
	b := newBrowser(t)
	b.lang = "en"
	if resp, _ := g.login(b, "kakao", pickUser(t, "kakao", hangulWithEmail).ID, g.URL+"/app/x"); resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	resp, body := b.get(g.URL + "/work/보고서?id=3")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "<title>No access</title>") {
		t.Fatalf("forbidden: %d\n%s", resp.StatusCode, body)
	}
	m := regexp.MustCompile(`id="switch" href="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no way to use another account:\n%s", body)
	}
	sw, _ := url.Parse(html.UnescapeString(m[1]))
	if sw.Path != "/oauth2/sign_out" || sw.Query().Get("rd") != g.URL+"/work/%EB%B3%B4%EA%B3%A0%EC%84%9C?id=3" {
		t.Errorf("switch link %q does not sign out and return to the page", sw)
	}
	_, page := b.get(g.URL + sw.String())
	if !strings.Contains(page, `name="rd" value="`+html.EscapeString(g.URL+"/work/%EB%B3%B4%EA%B3%A0%EC%84%9C?id=3")+`"`) {
		t.Errorf("the sign-out page does not carry the page back:\n%s", page)
	}
}
