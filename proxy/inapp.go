package proxy

import (
	"net/url"
	"strings"
)

// inApp is an in-app browser (a webview inside a messenger or social app)
// recognised from the User-Agent. Google refuses OAuth in webviews with 403
// disallowed_useragent, so the sign-in page offers to reopen itself in the
// system browser and keeps Google's button away from the webview.
type inApp struct {
	// App is "kakaotalk", "naver", "line", "instagram" or "facebook"; ""
	// when the browser is not a known in-app browser.
	App string
	// OS is "android", "ios" or "" (anything else).
	OS string
}

// inAppNames are the apps as people call them, for the explanation.
var inAppNames = map[string]map[lang]string{
	"kakaotalk": {langKO: "카카오톡", langEN: "KakaoTalk"},
	"naver":     {langKO: "네이버", langEN: "Naver"},
	"line":      {langKO: "라인", langEN: "LINE"},
	"instagram": {langKO: "인스타그램", langEN: "Instagram"},
	"facebook":  {langKO: "페이스북", langEN: "Facebook"},
}

// detectInApp reads the markers each app puts in its User-Agent. They are
// matched as the apps write them (case-sensitive): KakaoTalk appends
// "KAKAOTALK 10.4.3", the Naver app "NAVER(inapp; search; …)", LINE
// " Line/13.12.0", Instagram " Instagram 289.0…", Facebook "[FBAN/FBIOS;…"
// on iOS and "[FB_IAB/FB4A;FBAV/…" on Android. Naver's Whale browser and
// Samsung Internet are real browsers and match none of them.
func detectInApp(ua string) inApp {
	var d inApp
	switch {
	case strings.Contains(ua, "KAKAOTALK"):
		d.App = "kakaotalk"
	case strings.Contains(ua, "NAVER(inapp"):
		d.App = "naver"
	case strings.Contains(ua, " Line/"):
		d.App = "line"
	case strings.Contains(ua, " Instagram "):
		d.App = "instagram"
	case strings.Contains(ua, "FBAN/") || strings.Contains(ua, "FBAV/") || strings.Contains(ua, "FB_IAB/"):
		d.App = "facebook"
	default:
		return d
	}
	switch {
	case strings.Contains(ua, "Android"):
		d.OS = "android"
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad") || strings.Contains(ua, "iPod"):
		d.OS = "ios"
	}
	return d
}

// reopenLink returns a link that opens target (an absolute http(s) URL)
// in the system browser, or "" when this app offers none and the page must
// fall back to a link to copy (the Naver app, Instagram and Facebook on
// iOS, where no scheme leaves the webview).
func (d inApp) reopenLink(target string) string {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	switch {
	case d.App == "kakaotalk":
		// KakaoTalk's own scheme, on Android and iOS alike.
		return "kakaotalk://web/openExternal?url=" + url.QueryEscape(target)
	case d.App == "line":
		// LINE opens any URL with this parameter in the default browser.
		q := u.Query()
		q.Set("openExternalBrowser", "1")
		u.RawQuery = q.Encode()
		return u.String()
	case d.App != "" && d.OS == "android":
		// An Android intent without a package: the user's default browser
		// (or a chooser) opens it, never the app's webview.
		rest := strings.TrimPrefix(target, u.Scheme+"://")
		if i := strings.IndexByte(rest, '#'); i >= 0 {
			rest = rest[:i]
		}
		return "intent://" + rest + "#Intent;scheme=" + u.Scheme + ";end"
	}
	return ""
}
