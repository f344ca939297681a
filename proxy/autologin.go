package proxy

import (
	"net/http"
	"net/url"
)

// Kakao auto-login (providers.kakao.auto_login). Inside KakaoTalk the
// person is signed in to Kakao already, so the sign-in page first sends the
// browser to Kakao with prompt=none: a returning user (signed in, app
// agreed to) comes back with a code and is signed in without a click.
// Anyone else comes back with error=login_required or consent_required,
// and callback shows the sign-in page with auto=0, so the page is shown
// rather than tried again: no loop, no error page.
//
// The silent start goes through /oauth2/start/{id}?prompt=none like any
// login (state bound to the browser, PKCE, single use); start honours
// prompt=none only for a provider with AutoLogin. A link to it from
// elsewhere can do no more than a link to /oauth2/start: sign the person
// in with their own account.

// autoLogin is the provider to try silently for this request: inside
// KakaoTalk, a Kakao instance with AutoLogin, unless the page was reached
// after a silent attempt failed (auto=0). nil otherwise.
func (s *Server) autoLogin(r *http.Request) Provider {
	if r.URL.Query().Get("auto") == "0" || detectInApp(r.UserAgent()).App != "kakaotalk" {
		return nil
	}
	for _, p := range s.order {
		if p.AutoLogin() { // only a Kakao instance has it (providers.New)
			return p
		}
	}
	return nil
}

// silentRefused reports the answers of prompt=none when the provider
// cannot sign the person in without a page (OpenID Connect Core 3.1.2.6;
// Kakao uses the same codes).
func silentRefused(code string) bool {
	switch code {
	case "login_required", "consent_required", "interaction_required", "account_selection_required":
		return true
	}
	return false
}

// signInManually is the sign-in page for rd that does not try a silent
// login again.
func signInManually(rd string) string {
	return "/oauth2/sign_in?" + url.Values{"rd": {rd}, "auto": {"0"}}.Encode()
}
