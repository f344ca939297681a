package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium is Debian's browser, installed by `make test` (make deps).
const chromium = "/usr/bin/chromium"

// newBrowser starts headless Chromium for one test, or skips when it is not
// installed outside CI, and always under -short (the in-process tier).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Chromium: not in the -short tier")
	}
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium not installed (%v): run make test", err)
		}
		t.Skipf("chromium not installed: %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "ko-KR"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}

// TestDemoKakaoLoginInBrowser clicks through the demo as a person would:
// a deep link with Hangul, the sign-in page, Kakao's consent page, and back
// to the exact page with the identity headers the sample app received.
func TestDemoKakaoLoginInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	base := startDemo(t)
	deep := base + "/app/보고서?id=3&q=%ED%95%9C"
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	if err := chromedp.Do(ctx,
		chromedp.Navigate(deep),
		chromedp.WaitVisible(css(`a.btn-kakao`)),
	); err != nil {
		t.Fatalf("open the deep link: %v", err)
	}
	signInURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, ctx, "signin")
	if err := chromedp.Do(ctx, chromedp.Click(css(`a.btn-kakao`)), chromedp.WaitVisible(css(`#allow`))); err != nil {
		t.Fatalf("open kakao consent: %v", err)
	}
	saveScreenshot(t, ctx, "kakao-consent")
	if err := chromedp.Do(ctx,
		chromedp.Click(css(`input[value="9007199254740993"]`)),
		chromedp.Click(css(`#allow`)),
		chromedp.WaitVisible(css(`#name`)),
	); err != nil {
		t.Fatalf("sign in with kakao: %v (sign-in page was %q)", err, signInURL)
	}
	landed, _ := chromedp.Run(ctx, chromedp.Location())
	name, _ := chromedp.Run(ctx, chromedp.Text(css(`#name`)))
	headers, _ := chromedp.Run(ctx, chromedp.Text(css(`#headers`)))
	saveScreenshot(t, ctx, "landed")
	if !strings.Contains(signInURL, "/oauth2/sign_in?rd=") {
		t.Errorf("not sent to the sign-in page: %q", signInURL)
	}
	if want := base + "/app/%EB%B3%B4%EA%B3%A0%EC%84%9C?id=3&q=%ED%95%9C"; landed != want {
		t.Errorf("landed on %q, want %q", landed, want)
	}
	if name != "홍길동" {
		t.Errorf("sample app greets %q, want 홍길동", name)
	}
	for _, want := range []string{"kakao:9007199254740993", "gildong@kakao.com", "%ED%99%8D%EA%B8%B8%EB%8F%99"} {
		if !strings.Contains(headers, want) {
			t.Errorf("headers table lacks %q:\n%s", want, headers)
		}
	}
}

// saveScreenshot writes a PNG of the page to $SOCIALGATE_SCREENSHOTS, when
// set, so a person can look at what the flow showed.
func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("SOCIALGATE_SCREENSHOTS")
	if dir == "" {
		return
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.WriteFile(filepath.Join(dir, "demo-"+name+".png"), shot, 0o644)
}
