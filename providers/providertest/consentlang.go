package providertest

import (
	"net/http"

	"golang.org/x/text/language"
)

// The consent page speaks the browser's language, as the real providers'
// pages do: Korean or English by Accept-Language, else the provider's
// own default (Google and generic OIDC English, Naver and Kakao Korean).

var consentLangs = language.NewMatcher([]language.Tag{language.Korean, language.English})

// consentTexts are the page's words per kind and language.
var consentTexts = map[string]map[string]consentPage{
	Google: {
		"ko": {Title: "로그인 - Google 계정 (fake)", Heading: "계정 선택", Allow: "허용", Cancel: "취소"},
		"en": {Title: "Sign in - Google Accounts (fake)", Heading: "Choose an account", Allow: "Allow", Cancel: "Cancel"},
	},
	OIDC: {
		"ko": {Title: "corp에 로그인 (fake OpenID Connect)", Heading: "계정에 로그인", Allow: "로그인", Cancel: "취소"},
		"en": {Title: "Sign in to corp (fake OpenID Connect)", Heading: "Sign in to your account", Allow: "Sign In", Cancel: "Cancel"},
	},
	Naver: {
		"ko": {Title: "네이버 로그인 (fake)", Heading: "네이버 아이디로 로그인", Allow: "동의하고 계속하기", Cancel: "취소"},
		"en": {Title: "NAVER sign-in (fake)", Heading: "Log in with NAVER ID", Allow: "Agree and continue", Cancel: "Cancel"},
	},
	Kakao: {
		"ko": {Title: "카카오계정으로 로그인 (fake)", Heading: "카카오계정으로 로그인", Allow: "동의하고 계속하기", Cancel: "취소"},
		"en": {Title: "Log in with Kakao Account (fake)", Heading: "Log in with Kakao Account", Allow: "Agree and continue", Cancel: "Cancel"},
	},
}

// localPage is page() in the language r asks for.
func (f *Fake) localPage(r *http.Request) consentPage {
	p := f.page()
	l := p.Lang
	if al := r.Header.Get("Accept-Language"); al != "" {
		if tags, _, err := language.ParseAcceptLanguage(al); err == nil && len(tags) > 0 {
			if _, i, conf := consentLangs.Match(tags...); conf != language.No {
				l = []string{"ko", "en"}[i]
			}
		}
	}
	if t, ok := consentTexts[f.kind][l]; ok {
		p.Lang, p.Title, p.Heading, p.Allow, p.Cancel = l, t.Title, t.Heading, t.Allow, t.Cancel
	}
	return p
}
