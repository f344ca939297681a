package proxy

import (
	"net/url"
	"strings"
	"testing"
)

// Real User-Agent strings as the apps send them (2023–2024 versions).
var inAppUAs = []struct {
	name, ua, app, os string
}{
	{"kakaotalk android", "Mozilla/5.0 (Linux; Android 13; SM-S911N Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36;KAKAOTALK 2610420", "kakaotalk", "android"},
	{"kakaotalk ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 KAKAOTALK 10.4.3", "kakaotalk", "ios"},
	{"naver android", "Mozilla/5.0 (Linux; Android 12; SM-G991N Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/114.0.5735.196 Mobile Safari/537.36 NAVER(inapp; search; 2000; 12.7.1)", "naver", "android"},
	{"naver ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 NAVER(inapp; search; 1000; 11.18.2; 14PRO)", "naver", "ios"},
	{"line ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/13.12.0", "line", "ios"},
	{"line android", "Mozilla/5.0 (Linux; Android 11; SM-A515F Build/RP1A.200720.012; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/114.0.5735.196 Mobile Safari/537.36 Line/13.10.1/IAB", "line", "android"},
	{"instagram ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 289.0.0.17.118 (iPhone14,5; iOS 16_5; ko_KR; ko; scale=3.00; 1170x2532; 489069735)", "instagram", "ios"},
	{"instagram android", "Mozilla/5.0 (Linux; Android 13; SM-S908N Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/114.0.5735.196 Mobile Safari/537.36 Instagram 290.0.0.13.76 Android (33/13; 450dpi; 1080x2316; samsung; SM-S908N; b0q; qcom; ko_KR; 493119760)", "instagram", "android"},
	{"facebook ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/16.5;FBSS/3;FBID/phone;FBLC/ko_KR;FBOP/5]", "facebook", "ios"},
	{"facebook android", "Mozilla/5.0 (Linux; Android 13; SM-S918N Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/114.0.5735.196 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/421.0.0.33.47;]", "facebook", "android"},
	// Real browsers: none of them is an in-app browser.
	{"chrome android", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", "", ""},
	{"safari ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", "", ""},
	{"samsung internet", "Mozilla/5.0 (Linux; Android 13; SM-S911N) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", "", ""},
	{"naver whale", "Mozilla/5.0 (Linux; Android 13; SM-S911N) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Whale/1.0.0.0 Crosswalk/28.118.0.21 Mobile Safari/537.36 NAVER(higgs; search; 1010; 12.13.1)", "", ""},
	{"desktop chrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "", ""},
	{"empty", "", "", ""},
}

func TestDetectInApp(t *testing.T) {
	for _, tt := range inAppUAs {
		got := detectInApp(tt.ua)
		if got.App != tt.app || got.OS != tt.os {
			t.Errorf("%s: got %+v, want app %q os %q", tt.name, got, tt.app, tt.os)
		}
	}
}

func TestReopenLink(t *testing.T) {
	const target = "https://gate.example.com/oauth2/sign_in?rd=https%3A%2F%2Fwiki.example.com%2F%EB%B3%B4%EA%B3%A0%EC%84%9C%3Fa%3D1%26b%3D2"
	want := map[string]string{
		"kakaotalk android": "kakaotalk://web/openExternal?url=" + url.QueryEscape(target),
		"kakaotalk ios":     "kakaotalk://web/openExternal?url=" + url.QueryEscape(target),
		"naver android":     "intent://gate.example.com/oauth2/sign_in?rd=https%3A%2F%2Fwiki.example.com%2F%EB%B3%B4%EA%B3%A0%EC%84%9C%3Fa%3D1%26b%3D2#Intent;scheme=https;end",
		"naver ios":         "",
		"line ios":          "https://gate.example.com/oauth2/sign_in?openExternalBrowser=1&rd=https%3A%2F%2Fwiki.example.com%2F%EB%B3%B4%EA%B3%A0%EC%84%9C%3Fa%3D1%26b%3D2",
		"line android":      "https://gate.example.com/oauth2/sign_in?openExternalBrowser=1&rd=https%3A%2F%2Fwiki.example.com%2F%EB%B3%B4%EA%B3%A0%EC%84%9C%3Fa%3D1%26b%3D2",
		"instagram ios":     "",
		"instagram android": "intent://gate.example.com/oauth2/sign_in?rd=https%3A%2F%2Fwiki.example.com%2F%EB%B3%B4%EA%B3%A0%EC%84%9C%3Fa%3D1%26b%3D2#Intent;scheme=https;end",
		"facebook ios":      "",
		"facebook android":  "intent://gate.example.com/oauth2/sign_in?rd=https%3A%2F%2Fwiki.example.com%2F%EB%B3%B4%EA%B3%A0%EC%84%9C%3Fa%3D1%26b%3D2#Intent;scheme=https;end",
		"chrome android":    "",
		"desktop chrome":    "",
	}
	for _, tt := range inAppUAs {
		w, ok := want[tt.name]
		if !ok {
			continue
		}
		if got := detectInApp(tt.ua).reopenLink(target); got != w {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, w)
		}
	}
	// An http gateway (loopback tests, demo) keeps its scheme.
	got := inApp{App: "naver", OS: "android"}.reopenLink("http://127.0.0.1:4180/oauth2/sign_in")
	if got != "intent://127.0.0.1:4180/oauth2/sign_in#Intent;scheme=http;end" {
		t.Errorf("http intent: %q", got)
	}
	for _, bad := range []string{"", "/relative", "javascript:alert(1)", "kakaotalk://x"} {
		if got := (inApp{App: "kakaotalk"}).reopenLink(bad); got != "" {
			t.Errorf("reopenLink(%q) = %q, want none", bad, got)
		}
	}
}

// FuzzDetectInApp: any User-Agent and any deep link give a known app (or
// none) and a reopen link that leads back to exactly the page it was made
// for, in one of the three documented shapes.
func FuzzDetectInApp(f *testing.F) {
	for _, tt := range inAppUAs {
		f.Add(tt.ua, "/app/보고서?id=3&q=%ED%95%9C")
	}
	f.Add("KAKAOTALK Android iPhone NAVER(inapp Line/ Instagram FBAN/", "#frag")
	f.Fuzz(func(t *testing.T, ua, rd string) {
		d := detectInApp(ua)
		if _, ok := inAppNames[d.App]; !ok && d.App != "" {
			t.Fatalf("unknown app %q", d.App)
		}
		if d.App == "" && d.OS != "" {
			t.Fatalf("an OS without an app: %+v", d)
		}
		target := "https://gate.example.com/oauth2/sign_in?" + url.Values{"rd": {rd}}.Encode()
		link := d.reopenLink(target)
		switch {
		case link == "":
			if d.App == "kakaotalk" || d.App == "line" || (d.App != "" && d.OS == "android") {
				t.Fatalf("%+v: no reopen link", d)
			}
		case strings.HasPrefix(link, "kakaotalk://web/openExternal?url="):
			u, err := url.Parse(link)
			if err != nil || u.Query().Get("url") != target {
				t.Fatalf("kakaotalk link %q does not carry %q", link, target)
			}
		case strings.HasPrefix(link, "intent://"):
			rest, ok := strings.CutSuffix(strings.TrimPrefix(link, "intent://"), "#Intent;scheme=https;end")
			if !ok || "https://"+rest != target {
				t.Fatalf("intent %q does not lead to %q", link, target)
			}
		default:
			u, err := url.Parse(link)
			if err != nil || u.Query().Get("openExternalBrowser") != "1" || u.Query().Get("rd") != rd {
				t.Fatalf("line link %q lost rd %q", link, rd)
			}
		}
	})
}
