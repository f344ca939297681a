package proxy_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers/providertest"
)

const kakaoTalkUA = "Mozilla/5.0 (Linux; Android 13; SM-S911N Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36;KAKAOTALK 2610420"

// uaBrowser is a cookie-keeping client with a User-Agent that follows
// redirects itself and records them.
type uaBrowser struct {
	t    *testing.T
	c    *http.Client
	ua   string
	hops []string
}

func newUABrowser(t *testing.T, ua string) *uaBrowser {
	jar, _ := cookiejar.New(nil)
	b := &uaBrowser{t: t, ua: ua}
	b.c = &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			b.hops = append(b.hops, req.URL.String())
			req.Header.Set("User-Agent", ua)
			req.Header.Set("Accept", "text/html")
			if len(via) > 15 {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	return b
}

func (b *uaBrowser) get(u string) (*http.Response, string) {
	b.t.Helper()
	b.hops = []string{u}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	req.Header.Set("User-Agent", b.ua)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Accept-Language", "ko-KR")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestKakaoAutoLogin: inside KakaoTalk, a returning Kakao user is signed in
// and lands on the deep link without a click; a person Kakao does not know
// (or who revoked the app) gets the sign-in page, without an error and
// without a second silent attempt; other browsers and configurations are
// never sent silently.
func TestKakaoAutoLogin(t *testing.T) {
	g := newGateway(t, gatewayConfig{kakaoAutoLogin: true})
	kakao := g.fakes["kakao"]
	u := pickUser(t, "kakao", hangulWithEmail)
	deep := g.URL + "/app/보고서?id=3"

	// Not signed in to Kakao: login_required, back on the page.
	b := newUABrowser(t, kakaoTalkUA)
	resp, body := b.get(deep)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "카카오 로그인") {
		t.Fatalf("unknown user: %d after %v", resp.StatusCode, b.hops)
	}
	last, _ := url.Parse(b.hops[len(b.hops)-1])
	if last.Path != "/oauth2/sign_in" || last.Query().Get("auto") != "0" || last.Query().Get("rd") != deepWire(g) {
		t.Errorf("fell back to %s, want the sign-in page with auto=0 and rd", last)
	}
	if strings.Contains(body, "문제가 발생했습니다") || strings.Contains(body, "취소") {
		t.Error("the fallback shows an error")
	}
	if silent := countSilent(kakao.Requests()); silent != 1 {
		t.Errorf("%d silent attempts, want 1", silent)
	}

	// The person signs in once through the consent page (the fake then
	// knows this browser), and signs out of the gateway.
	resp, _ = b.get(g.URL + "/oauth2/start/kakao?" + url.Values{"rd": {deepWire(g)}}.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("consent page: %d", resp.StatusCode)
	}
	form := url.Values{}
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method", "scope"} {
		if v := resp.Request.URL.Query().Get(k); v != "" {
			form.Set(k, v)
		}
	}
	form.Set("action", "allow")
	form.Set("user", u.ID)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, kakao.Endpoints().AuthURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", kakaoTalkUA)
	resp2, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusOK || resp2.Request.URL.String() != deepWire(g) {
		t.Fatalf("first login landed on %s (%d)", resp2.Request.URL, resp2.StatusCode)
	}
	g.sessions.EndUser(context.Background(), "kakao:"+u.ID) //nolint:errcheck // checked below
	b.c.Jar.SetCookies(mustURL(t, g.URL), []*http.Cookie{{Name: g.cookies.SessionName(), Value: "", MaxAge: -1}})

	// Returning: no click, straight to the deep link, signed in.
	resp, body = b.get(deep)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != deepWire(g) {
		t.Fatalf("returning user: %d at %s after %v", resp.StatusCode, resp.Request.URL, b.hops)
	}
	if !strings.Contains(body, "kakao:"+u.ID) {
		t.Errorf("upstream did not see the user: %.300s", body)
	}

	// Signing out is not undone by a silent login: the page says so.
	_, page := b.get(g.URL + "/oauth2/sign_out")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("no sign-out form:\n%s", page)
	}
	silentBefore := countSilent(kakao.Requests())
	req, _ = http.NewRequestWithContext(context.Background(), http.MethodPost, g.URL+"/oauth2/sign_out",
		strings.NewReader(url.Values{"csrf": {csrf[1]}, "rd": {deepWire(g)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", kakaoTalkUA)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Accept-Language", "ko")
	resp4, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body4, _ := io.ReadAll(resp4.Body)
	resp4.Body.Close()
	if resp4.Request.URL.Path != "/oauth2/sign_in" || !strings.Contains(string(body4), "로그아웃되었습니다.") {
		t.Errorf("after sign-out: %s\n%s", resp4.Request.URL, body4)
	}
	if n := countSilent(kakao.Requests()); n != silentBefore {
		t.Errorf("sign-out was followed by %d silent logins", n-silentBefore)
	}

	// The user revokes the app at Kakao: consent_required, back on the page.
	kakao.ForgetConsent(u.ID)
	b2 := newUABrowser(t, kakaoTalkUA)
	b2.c.Jar = b.c.Jar
	b2.c.Jar.SetCookies(mustURL(t, g.URL), []*http.Cookie{{Name: g.cookies.SessionName(), Value: "", MaxAge: -1}})
	resp, body = b2.get(deep)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Request.URL.RawQuery, "auto=0") ||
		!strings.Contains(body, "카카오 로그인") {
		t.Errorf("consent revoked: %d at %s", resp.StatusCode, resp.Request.URL)
	}

	// Outside KakaoTalk, and without auto_login, nothing silent happens.
	before := len(kakao.Requests())
	if resp, _ := newUABrowser(t, "Mozilla/5.0 (Linux; Android 10; K) Chrome/120.0.0.0 Mobile Safari/537.36").get(deep); resp.Request.URL.Path != "/oauth2/sign_in" {
		t.Errorf("a real browser was sent to %s", resp.Request.URL)
	}
	g2 := newGateway(t, gatewayConfig{})
	if resp, _ := newUABrowser(t, kakaoTalkUA).get(g2.URL + "/app/x"); resp.Request.URL.Path != "/oauth2/sign_in" {
		t.Errorf("without auto_login: sent to %s", resp.Request.URL)
	}
	if n := len(kakao.Requests()); n != before {
		t.Errorf("%d requests reached Kakao without auto_login or KakaoTalk", n-before)
	}
	// prompt=none on a provider without auto_login is ignored.
	resp3 := newBrowser(t).do(http.MethodGet, g.URL+"/oauth2/start/naver?prompt=none", nil)
	resp3.Body.Close()
	if strings.Contains(resp3.Header.Get("Location"), "prompt") {
		t.Errorf("naver got prompt: %s", resp3.Header.Get("Location"))
	}
}

func countSilent(reqs []providertest.Request) int {
	n := 0
	for _, r := range reqs {
		if r.Path == "/oauth/authorize" && r.Form.Get("prompt") == "none" {
			n++
		}
	}
	return n
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
