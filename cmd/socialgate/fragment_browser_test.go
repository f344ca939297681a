package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/socialgate/socialgate/providers/providertest"
)

// TestFragmentSurvivesLoginInBrowser: in real Chromium, a deep link with a
// fragment (#제2장, Hangul) meets the sign-in page, the person presses
// Kakao, and the browser lands on the same URL with the same fragment.
// The fragment never reaches the server: the sign-in page's script puts it
// on the buttons' rd. Also after switching the page's language.
func TestFragmentSurvivesLoginInBrowser(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><meta charset="utf-8"><h1 id="doc">문서</h1><h2 id="제2장">제2장</h2>`)
	}))
	t.Cleanup(app.Close)
	s := serveConfig(t, servedConfig{upstream: app.URL})
	s.kakao.AutoApprove(providertest.DefaultUsers("kakao")[0].ID)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	hrefHasFragment := func(ctx context.Context, sel string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; {
			href, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('`+sel+`').getAttribute('href')`))
			if strings.Contains(href, "%23") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the button's rd never got the fragment: %q", href)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, tc := range []struct {
		name     string
		switchTo string // a language link to press first
	}{
		{"direct", ""},
		{"after switching language", `a[lang="en"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := newBrowser(t) // a browser of its own: not signed in
			deep := s.URL + "/docs/%EC%95%88%EB%82%B4?v=2#%EC%A0%9C2%EC%9E%A5"
			if err := chromedp.Do(ctx, chromedp.Navigate(deep), chromedp.WaitVisible(css(`a[data-provider="kakao"]`))); err != nil {
				t.Fatalf("open the deep link: %v", err)
			}
			if tc.switchTo != "" {
				hrefHasFragment(ctx, tc.switchTo)
				if err := chromedp.Do(ctx, chromedp.Click(css(tc.switchTo)), chromedp.WaitVisible(css(`a[data-provider="kakao"]`))); err != nil {
					t.Fatal(err)
				}
			}
			hrefHasFragment(ctx, `a[data-provider="kakao"]`)
			if err := chromedp.Do(ctx, chromedp.Click(css(`a[data-provider="kakao"]`)), chromedp.WaitVisible(css(`#doc`))); err != nil {
				t.Fatalf("sign in: %v", err)
			}
			landed, _ := chromedp.Run(ctx, chromedp.Location())
			u, err := url.Parse(landed)
			if err != nil {
				t.Fatal(err)
			}
			if u.Path != "/docs/안내" || u.RawQuery != "v=2" || u.Fragment != "제2장" {
				t.Errorf("landed on %q, want /docs/안내?v=2#제2장", landed)
			}
		})
	}
}
