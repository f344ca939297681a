package proxy

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDeviceOf(t *testing.T) {
	for _, tc := range []struct{ ua, browser, os string }{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", "Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge", "Windows"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 KAKAOTALK 10.8.5", "KakaoTalk", "iOS"},
		{"Mozilla/5.0 (Linux; Android 14; SM-S918N) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", "Samsung Internet", "Android"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari", "macOS"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", "Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Whale/4.29.282.14 Safari/537.36", "Whale", "Windows"},
		{"curl/8.5.0", "curl", ""},
		{"", "", ""},
	} {
		b, o := deviceOf(tc.ua)
		if b != tc.browser || o != tc.os {
			t.Errorf("%q: %q %q, want %q %q", tc.ua, b, o, tc.browser, tc.os)
		}
	}
}

// FuzzDeviceOf: any User-Agent gives a known name or nothing, never the
// client's own text.
func FuzzDeviceOf(f *testing.F) {
	f.Add("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) KAKAOTALK 10.8.5")
	f.Add("<script>alert(1)</script> Chrome/1")
	f.Add(strings.Repeat("Chrome/", 200) + "Firefox/")
	f.Fuzz(func(t *testing.T, ua string) {
		b, o := deviceOf(ua)
		if len(b) > 20 || len(o) > 20 || !utf8.ValidString(b) || strings.ContainsAny(b+o, "<>/;") {
			t.Fatalf("%q → %q %q", ua, b, o)
		}
	})
}
