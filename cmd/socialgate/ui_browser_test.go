package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The pages as a person meets them, in Debian's Chromium against the demo
// (fake Google, Naver and Kakao; ui.app_name "사내 위키"; Kakao auto_login).
// With SOCIALGATE_SCREENSHOTS=dir the tests save what they saw there: the
// sign-in page in Korean and English at 1280 and 360 px
// (signin-{ko,en}-{1280,360}, TestBrowserLayout), inside KakaoTalk
// (kakaotalk-360), after sign-out (signed-out-ko-360), a cancelled consent
// (cancelled-en-360) and the person's own pages (own-…-ko-360). The
// current ones, all but the own pages, are in docs/screenshots/ and the
// README.

const (
	uaKakaoTalk = "Mozilla/5.0 (Linux; Android 13; SM-S911N Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36;KAKAOTALK 2610420"
	uaDesktop   = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	deepPath    = "/app/보고서?id=3&q=%ED%95%9C"
	deepWire    = "/app/%EB%B3%B4%EA%B3%A0%EC%84%9C?id=3&q=%ED%95%9C"
)

// pageAs sets the tab's size, User-Agent and language, and forgets its
// cookies, so each step starts as a fresh browser of that kind.
func pageAs(t *testing.T, ctx context.Context, width, height int64, ua, lang string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: lang}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
}

// shot saves the page as dir/name.png when SOCIALGATE_SCREENSHOTS is set.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("SOCIALGATE_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Error(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// TestBrowserLoginEachProvider: for each provider, a Hangul deep link
// leads to the sign-in page that names the app, through the provider's
// consent page, back to exactly that URL.
func TestBrowserLoginEachProvider(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	ctx := newBrowser(t)
	base := startDemo(t)
	for _, kind := range []string{"kakao", "naver", "google", "github", "corp"} {
		pageAs(t, ctx, 1280, 800, uaDesktop, "ko-KR,ko")
		if err := chromedp.Do(ctx, chromedp.Navigate(base+deepPath),
			chromedp.WaitVisible(chromedp.CSS(`a[data-provider="`+kind+`"]`))); err != nil {
			t.Fatalf("%s: sign-in page: %v", kind, err)
		}
		if h1 := text(t, ctx, "h1"); h1 != "사내 위키에 로그인" {
			t.Errorf("%s: sign-in page says %q, want the app's name", kind, h1)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[data-provider="`+kind+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#allow`)),
			chromedp.Click(chromedp.CSS(`#allow`)),
			chromedp.WaitVisible(chromedp.CSS(`#headers`))); err != nil {
			t.Fatalf("%s: consent: %v", kind, err)
		}
		if got := location(t, ctx); got != base+deepWire {
			t.Errorf("%s: landed on %q, want %q", kind, got, base+deepWire)
		}
		if h := text(t, ctx, "#headers"); !strings.Contains(h, "X-Forwarded-Provider") || !strings.Contains(h, kind) {
			t.Errorf("%s: the app did not get the identity:\n%s", kind, h)
		}
	}
}

// TestBrowserInAppBrowsers: every webview gets its way out and no plain
// Google link.
func TestBrowserInAppBrowsers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	ctx := newBrowser(t)
	base := startDemo(t)
	signIn := base + "/oauth2/sign_in?" + url.Values{"rd": {base + deepWire}, "auto": {"0"}}.Encode()
	for _, tc := range []struct{ name, ua, reopen string }{
		{"kakaotalk", uaKakaoTalk, "kakaotalk://web/openExternal?url="},
		{"naver android", "Mozilla/5.0 (Linux; Android 12; SM-G991N Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/114.0.5735.196 Mobile Safari/537.36 NAVER(inapp; search; 2000; 12.7.1)", "intent://"},
		{"naver ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 NAVER(inapp; search; 1000; 11.18.2; 14PRO)", ""},
		{"line", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/13.12.0", "openExternalBrowser=1"},
		{"instagram ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 289.0.0.17.118 (iPhone14,5; iOS 16_5; ko_KR; ko; scale=3.00; 1170x2532; 489069735)", ""},
		{"facebook android", "Mozilla/5.0 (Linux; Android 13; SM-S918N Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/114.0.5735.196 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/421.0.0.33.47;]", "intent://"},
	} {
		pageAs(t, ctx, 360, 800, tc.ua, "ko-KR,ko")
		if err := chromedp.Do(ctx, chromedp.Navigate(signIn), chromedp.WaitVisible(chromedp.CSS(`.inapp`))); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		plain := eval[int](t, ctx, `[...document.querySelectorAll('a[href]')].filter(a => /\/oauth2\/start\/google/.test(a.href) && a.href.startsWith(location.origin) && !a.href.includes('openExternalBrowser=1')).length`)
		if plain != 0 {
			t.Errorf("%s: %d plain Google links", tc.name, plain)
		}
		if tc.reopen == "" {
			want := base + "/oauth2/sign_in?" + url.Values{"rd": {base + deepWire}}.Encode()
			if v := eval[string](t, ctx, `document.getElementById('copy-url').value`); v != want {
				t.Errorf("%s: copy field holds %q, want %q", tc.name, v, want)
			}
			// The copy button (the gateway's own script, allowed by the
			// page's CSP) copies and says so.
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[data-copy]`))); err != nil {
				t.Fatal(err)
			}
			var said string
			for range 50 {
				if said = text(t, ctx, `button[data-copy]`); said == "복사했습니다" {
					break
				}
				if err := chromedp.Do(ctx, chromedp.Sleep(20*time.Millisecond)); err != nil {
					t.Fatal(err)
				}
			}
			if said != "복사했습니다" {
				t.Errorf("%s: the copy button says %q after a click", tc.name, said)
			}
			continue
		}
		href := eval[string](t, ctx, `document.getElementById('reopen').getAttribute('href')`)
		if !strings.Contains(href, tc.reopen) {
			t.Errorf("%s: reopen link %q lacks %q", tc.name, href, tc.reopen)
		}
		if tc.name == "kakaotalk" {
			shot(t, ctx, "kakaotalk-360")
		}
	}
}

// TestBrowserKakaoAutoLogin: in KakaoTalk with auto_login, a person Kakao
// does not know gets the page without an error; once they have signed in,
// signing out shows the message (and is not undone), and the next visit
// signs them in without a click.
func TestBrowserKakaoAutoLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	ctx := newBrowser(t)
	base := startDemo(t)
	pageAs(t, ctx, 360, 800, uaKakaoTalk, "ko-KR,ko")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+deepPath),
		chromedp.WaitVisible(chromedp.CSS(`a[data-provider="kakao"]`))); err != nil {
		t.Fatalf("fallback: %v", err)
	}
	if loc := location(t, ctx); !strings.Contains(loc, "/oauth2/sign_in?") || !strings.Contains(loc, "auto=0") {
		t.Errorf("fell back to %q", loc)
	}
	if h1 := text(t, ctx, "h1"); h1 != "사내 위키에 로그인" {
		t.Errorf("fallback page says %q", h1)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[data-provider="kakao"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#allow`)),
		chromedp.Click(chromedp.CSS(`#allow`)),
		chromedp.WaitVisible(chromedp.CSS(`#name`))); err != nil {
		t.Fatalf("first login: %v", err)
	}
	// The person's own pages share the layout and hold at 360 px too.
	for _, path := range []string{"/oauth2/", "/oauth2/sessions"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS(`h1`))); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if w := eval[int64](t, ctx, `document.documentElement.scrollWidth`); w > 360 {
			t.Errorf("%s: %d px wide in a 360 px window", path, w)
		}
		shot(t, ctx, "own"+strings.ReplaceAll(strings.TrimSuffix(path, "/"), "/", "-")+"-ko-360")
	}
	// Sign out: the message, not a silent login.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/oauth2/sign_out"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice`))); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if msg := text(t, ctx, ".notice"); msg != "로그아웃되었습니다." {
		t.Errorf("after sign-out: %q", msg)
	}
	shot(t, ctx, "signed-out-ko-360")
	// Next visit: no click.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+deepPath), chromedp.WaitVisible(chromedp.CSS(`#name`))); err != nil {
		t.Fatalf("returning user: %v (at %s)", err, location(t, ctx))
	}
	if got := location(t, ctx); got != base+deepWire {
		t.Errorf("returning user landed on %q", got)
	}
}

// TestBrowserLayout: the pages in both languages hold at 360 px and at
// 1280 px: nothing overflows sideways, no button label wraps (the English
// error buttons included), keyboard focus is visible.
func TestBrowserLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	ctx := newBrowser(t)
	base := startDemo(t)
	checkLayout := func(what string, width int64) {
		t.Helper()
		if w := eval[int64](t, ctx, `document.documentElement.scrollWidth`); w > width {
			wide := eval[[]string](t, ctx, `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`)
			t.Errorf("%s: %d px wide in a %d px window (innerWidth %d): %q", what, w, width, eval[int64](t, ctx, `innerWidth`), wide)
		}
		wrapped := eval[[]string](t, ctx, `[...document.querySelectorAll('.btn')].filter(b => b.getBoundingClientRect().height > 50).map(b => b.textContent.trim())`)
		if len(wrapped) > 0 {
			t.Errorf("%s at %d px: buttons on two lines: %q", what, width, wrapped)
		}
	}
	for _, lang := range []string{"ko", "en"} {
		for _, width := range []int64{1280, 360} {
			pageAs(t, ctx, width, 760, uaDesktop, lang)
			if err := chromedp.Do(ctx, chromedp.Navigate(base+deepPath), chromedp.WaitVisible(chromedp.CSS(`.providers`))); err != nil {
				t.Fatal(err)
			}
			checkLayout("sign-in "+lang, width)
			// Before any focus: the page as it first appears.
			shot(t, ctx, "signin-"+lang+"-"+strconv.FormatInt(width, 10))
			// Keyboard: Tab goes through the provider buttons in order, each
			// with a visible ring (--focus, 3px): the white Naver and Google
			// buttons as much as the coloured ones.
			ids := eval[[]string](t, ctx, `[...document.querySelectorAll('.providers a.btn')].map(a => a.dataset.provider)`)
			if len(ids) != 5 {
				t.Errorf("%s %d: provider buttons %q, want the demo's five", lang, width, ids)
			}
			for _, id := range ids {
				if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
					t.Fatal(err)
				}
				focused := eval[string](t, ctx, `(() => { const e = document.activeElement, s = getComputedStyle(e); return (e.dataset.provider || e.tagName) + ' ' + s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor })()`)
				if want := id + " solid 3px rgb(11, 87, 208)"; focused != want {
					t.Errorf("%s %d: focused %q, want %q", lang, width, focused, want)
				}
			}
		}
	}
	// Cancelled consent, English, on a phone: says "cancelled", one-line
	// buttons, and "Sign in again" keeps the deep link.
	pageAs(t, ctx, 360, 760, uaDesktop, "en-US,en")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+deepPath),
		chromedp.Click(chromedp.CSS(`a[data-provider="naver"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#cancel`))); err != nil {
		t.Fatalf("naver consent: %v", err)
	}
	// The fake's consent page speaks English here and fits the phone.
	if h1 := text(t, ctx, "h1"); h1 != "Log in with NAVER ID" {
		t.Errorf("consent page in %q, want English", h1)
	}
	checkLayout("naver consent", 360)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#cancel`)),
		chromedp.WaitVisible(chromedp.CSS(`#retry`))); err != nil {
		t.Fatalf("cancel consent: %v", err)
	}
	if h1 := text(t, ctx, "h1"); h1 != "Sign-in cancelled" {
		t.Errorf("cancelled consent titled %q", h1)
	}
	checkLayout("cancelled", 360)
	shot(t, ctx, "cancelled-en-360")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#retry`)), chromedp.WaitVisible(chromedp.CSS(`.providers`))); err != nil {
		t.Fatal(err)
	}
	if loc := location(t, ctx); !strings.Contains(loc, url.QueryEscape(base+deepWire)) {
		t.Errorf("retry lost the deep link: %q", loc)
	}
}
