package proxy

import (
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"

	"github.com/socialgate/socialgate/providers"
)

// The data each page template receives. docs/TEMPLATES.md documents these
// fields for teams that write their own templates (ui.templates_dir);
// renaming one breaks their templates, so add fields, do not rename.

// signInPage is the data of signin.html.
type signInPage struct {
	Lang lang
	// Title is "Sign in", or "Sign in to {app}" with ui.app_name.
	Title string
	// Notice is a message key to show above the buttons ("signed_out"),
	// or "".
	Notice    string
	Providers []providerButton
	// InApp is set inside an in-app browser (KakaoTalk, Naver, LINE,
	// Instagram, Facebook).
	InApp *inAppView
	// LangKO and LangEN are this page in the other language.
	LangKO, LangEN string
}

// providerButton is one sign-in button.
type providerButton struct {
	// ID is the provider instance ("google", "corp"); Kind its kind.
	ID, Kind string
	// Style is "google", "naver" or "kakao" for the brands' own buttons,
	// "generic" for every other kind.
	Style string
	Label string
	// Href starts the login; "" when the button cannot be used here
	// (Google inside an in-app browser without a way out). It may be a
	// kakaotalk:// or intent:// link the gateway built, hence template.URL
	// (html/template would otherwise blank the scheme out).
	Href template.URL
	// External is set when Href leaves the in-app browser first.
	External bool
}

// inAppView is what the sign-in page says inside an in-app browser.
type inAppView struct {
	App, Name string // "kakaotalk", "카카오톡"
	// Reopen opens this page in the system browser; "" when the app has
	// no way out and the page offers CopyURL instead. Built by the
	// gateway (kakaotalk://, intent:// or https://).
	Reopen  template.URL
	CopyURL string
}

// brandStyles are the provider kinds whose brand guidelines define the
// button (colours, symbol and label).
var brandStyles = map[string]bool{"google": true, "naver": true, "kakao": true}

// webviewRefuser is a provider that refuses OAuth inside in-app browsers
// (Google, as its own kind or as an OpenID Connect issuer): providers
// knows which.
type webviewRefuser interface {
	RefusesWebviews() bool
}

// signInPage builds the sign-in page for rd (already validated).
func (s *Server) signInPage(r *http.Request, rd string) signInPage {
	l := langFor(r)
	page := signInPage{Lang: l, Title: text(l, "signin_title")}
	if s.pages.appName != "" {
		page.Title = fmt.Sprintf(text(l, "signin_title_app"), s.pages.appName)
	}
	app := detectInApp(r.UserAgent())
	if app.App != "" {
		self := s.signInURL(rd)
		page.InApp = &inAppView{App: app.App, Name: inAppNames[app.App][l],
			Reopen: template.URL(app.reopenLink(self)), CopyURL: self}
	}
	for _, p := range s.order {
		kind := p.Kind()
		b := providerButton{ID: p.Name(), Kind: kind, Style: "generic"}
		custom := p.DisplayName() != providers.KindDisplayName(kind)
		switch {
		case brandStyles[kind] && !custom:
			b.Style, b.Label = kind, text(l, "signin_"+kind)
		case brandStyles[kind]:
			// Two instances of one brand must be told apart:
			// "회사 Google 계정으로 로그인".
			b.Style, b.Label = kind, fmt.Sprintf(text(l, "signin_other"), p.DisplayName())
		case custom:
			// display_name is the button's label, as the operator wrote it.
			b.Label = p.DisplayName()
		default:
			b.Label = fmt.Sprintf(text(l, "signin_other"), p.DisplayName())
		}
		start := "/oauth2/start/" + url.PathEscape(p.Name()) + "?" + url.Values{"rd": {rd}}.Encode()
		b.Href = template.URL(start)
		if w, ok := p.(webviewRefuser); ok && page.InApp != nil && w.RefusesWebviews() {
			// Google answers 403 disallowed_useragent in webviews: its
			// button leaves the webview first, or is not a link at all.
			b.Href = template.URL(app.reopenLink(s.publicURL("", nil) + start))
			b.External = b.Href != ""
		}
		page.Providers = append(page.Providers, b)
	}
	ko, en := url.Values{"rd": {rd}, "lang": {"ko"}}, url.Values{"rd": {rd}, "lang": {"en"}}
	if r.URL.Query().Get("auto") == "0" {
		ko.Set("auto", "0")
		en.Set("auto", "0")
	}
	page.LangKO, page.LangEN = "/oauth2/sign_in?"+ko.Encode(), "/oauth2/sign_in?"+en.Encode()
	return page
}

// retryURL is the sign-in page for rd: every "try again" keeps the deep
// link the person was on their way to.
func (s *Server) retryURL(rd string) string {
	if rd == "" || rd == "/" {
		return "/oauth2/sign_in"
	}
	return "/oauth2/sign_in?" + url.Values{"rd": {rd}}.Encode()
}

// samplePages is data for every built-in page, for trying custom
// templates before they meet a user.
func samplePages(l lang) map[string]any {
	btn := func(id, style string) providerButton {
		return providerButton{ID: id, Kind: id, Style: style, Label: text(l, "signin_"+id),
			Href: template.URL("/oauth2/start/" + id + "?rd=%2F")}
	}
	pages := map[string]any{
		"signin.html": signInPage{Lang: l, Title: text(l, "signin_title"), Notice: "signed_out",
			Providers: []providerButton{btn("kakao", "kakao"), btn("naver", "naver"), btn("google", "google"),
				{ID: "corp", Kind: "oidc", Style: "generic", Label: "Sign in with Corp", Href: template.URL("/oauth2/start/corp")}},
			InApp: &inAppView{App: "kakaotalk", Name: "KakaoTalk",
				Reopen: template.URL("kakaotalk://web/openExternal?url=https%3A%2F%2Fgate.example.com%2F"), CopyURL: "https://gate.example.com/"},
			LangKO: "/oauth2/sign_in?lang=ko", LangEN: "/oauth2/sign_in?lang=en"},
		"signout.html": signOutPage{Lang: l, User: "kakao:1", Name: "홍길동", Email: "gildong@example.com",
			Provider: "kakao", CSRF: "x", RD: "/", Cancel: "/"},
		"error.html": errorPage{Lang: l, Status: 403, Key: string(errConsentDenied), Title: errorTitle(l, errConsentDenied),
			Message: text(l, "err_consent_denied"), RequestID: "r-1", Retry: "/oauth2/sign_in", Home: "/",
			SwitchAccount: "/oauth2/sign_out"},
	}
	maps.Copy(pages, accountSamplePages(l))
	return pages
}
