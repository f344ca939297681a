package proxy

import "strings"

// deviceOf names a browser for people ("Chrome · Windows", "KakaoTalk ·
// iOS") from its User-Agent, for the sessions page. It only reads
// well-known tokens, in an order that handles the usual impersonation
// (Edge and Samsung Internet claim to be Chrome, Chrome claims Safari);
// anything else is "" and the page says "unknown device". The input is
// cut to 512 bytes: it is what a client chose to send.
func deviceOf(ua string) (browser, os string) {
	if len(ua) > 512 {
		ua = ua[:512]
	}
	for _, b := range []struct{ token, name string }{
		{"KAKAOTALK", "KakaoTalk"},
		{"NAVER(inapp", "Naver app"},
		{" Line/", "LINE"},
		{"Instagram", "Instagram"},
		{"FBAN", "Facebook"},
		{"FBAV", "Facebook"},
		{"Whale/", "Whale"},
		{"SamsungBrowser/", "Samsung Internet"},
		{"Edg/", "Edge"},
		{"EdgA/", "Edge"},
		{"EdgiOS/", "Edge"},
		{"OPR/", "Opera"},
		{"Firefox/", "Firefox"},
		{"FxiOS/", "Firefox"},
		{"CriOS/", "Chrome"},
		{"Chrome/", "Chrome"},
		{"Safari/", "Safari"},
		{"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	for _, o := range []struct{ token, name string }{
		{"iPhone", "iOS"},
		{"iPad", "iPadOS"},
		{"Android", "Android"},
		{"Windows", "Windows"},
		{"Mac OS X", "macOS"},
		{"Macintosh", "macOS"},
		{"CrOS", "ChromeOS"},
		{"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			os = o.name
			break
		}
	}
	return browser, os
}
