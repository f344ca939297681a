package providertest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// authRequest is a validated authorization request.
type authRequest struct {
	clientID, redirectURI, scope, state, nonce string
	challenge, method, prompt, loginHint       string
	offline                                    bool
}

// authFailure is an authorization request the fake refuses. With
// redirect false the browser gets an error page: the client or its
// redirect_uri cannot be trusted, so nothing is sent back to it.
type authFailure struct {
	redirect    bool
	code, desc  string
	pageMessage string
}

// authParams are the request parameters the consent form carries along.
var authParams = []string{"client_id", "redirect_uri", "response_type", "scope", "state",
	"nonce", "code_challenge", "code_challenge_method", "access_type", "prompt", "login_hint",
	"auth_type"}

func (f *Fake) authPath() string {
	switch f.kind {
	case Google:
		return "/o/oauth2/v2/auth"
	case Naver:
		return "/oauth2.0/authorize"
	case OIDC:
		return oidcPrefix + "/auth"
	case GitHub:
		return "/login/oauth/authorize"
	default:
		return "/oauth/authorize"
	}
}

// parseAuthorize validates the request the way the provider does.
func (f *Fake) parseAuthorize(v url.Values) (authRequest, *authFailure) {
	a := authRequest{clientID: v.Get("client_id"), redirectURI: v.Get("redirect_uri"),
		state: v.Get("state"), prompt: v.Get("prompt"), loginHint: v.Get("login_hint")}
	if a.clientID != f.o.ClientID {
		msg := map[string]string{Google: "Error 400: invalid_client — The OAuth client was not found.",
			Naver:  "등록되지 않은 애플리케이션입니다. (invalid client_id)",
			Kakao:  "KOE101: 앱 키가 올바르지 않습니다. (invalid client_id)",
			OIDC:   "Client not found.",
			GitHub: "404 Not Found: no application with this client_id"}[f.kind]
		return a, &authFailure{pageMessage: msg}
	}
	if !validRedirectURI(a.redirectURI) {
		msg := map[string]string{Google: "Error 400: redirect_uri_mismatch — redirect_uri must be an absolute http(s) URL.",
			Naver:  "redirect_uri가 올바르지 않습니다. (invalid redirect_uri)",
			Kakao:  "KOE006: 등록되지 않은 리다이렉트 URI입니다. (invalid redirect_uri)",
			OIDC:   "Invalid parameter: redirect_uri",
			GitHub: "The redirect_uri is not associated with this application."}[f.kind]
		return a, &authFailure{pageMessage: msg}
	}
	if f.kind == Naver && a.state == "" {
		return a, &authFailure{pageMessage: "state 값이 없습니다. (state is required)"}
	}
	// GitHub needs no response_type: code is the only one.
	if rt := v.Get("response_type"); rt != "code" && !(f.kind == GitHub && rt == "") {
		return a, &authFailure{redirect: true, code: "unsupported_response_type",
			desc: "response_type must be code"}
	}
	if f.kind == Naver {
		return a, nil // Naver has no scope, nonce or PKCE
	}
	a.scope = v.Get("scope")
	a.nonce = v.Get("nonce")
	if f.kind == Google {
		if strings.TrimSpace(a.scope) == "" {
			return a, &authFailure{redirect: true, code: "invalid_request",
				desc: "Missing required parameter: scope"}
		}
		a.offline = v.Get("access_type") == "offline"
	}
	if f.kind == OIDC {
		if !hasScope(a.scope, "openid") {
			return a, &authFailure{redirect: true, code: "invalid_scope", desc: "openid scope is required"}
		}
		if !f.o.OIDC.PKCE {
			return a, nil // an issuer without PKCE ignores its parameters
		}
		if v.Get("code_challenge") == "" {
			return a, &authFailure{redirect: true, code: "invalid_request", desc: "Missing parameter: code_challenge_method"}
		}
	}
	if a.challenge = v.Get("code_challenge"); a.challenge != "" {
		a.method = v.Get("code_challenge_method")
		allowed := []string{"S256"}
		if f.kind == Google {
			allowed = append(allowed, "plain")
			if a.method == "" {
				a.method = "plain" // RFC 7636's default
			}
		}
		// Kakao takes S256 only and, unconfirmed, wants it spelled out.
		if !slices.Contains(allowed, a.method) || !validPKCEString(a.challenge) {
			return a, &authFailure{redirect: true, code: "invalid_request",
				desc: "Invalid code_challenge or code_challenge_method"}
		}
	}
	return a, nil
}

// validRedirectURI accepts absolute http(s) URLs without a fragment, the
// only kind the providers let an app register.
func validRedirectURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.Fragment == "" && !strings.Contains(s, "#")
}

// serveAuthorize is /authorize: the consent page (GET) and its answer (POST).
func (f *Fake) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	a, fail := f.parseAuthorize(r.Form)
	if fail != nil && !fail.redirect {
		f.renderError(w, http.StatusBadRequest, fail.pageMessage)
		return
	}
	if fail != nil {
		f.redirectBack(w, r, a, url.Values{"error": {fail.code}, "error_description": {fail.desc}})
		return
	}
	if r.Method == http.MethodPost {
		f.answerConsent(w, r, a)
		return
	}
	f.mu.Lock()
	deny, auto := f.deny, f.autoApprove
	f.mu.Unlock()
	switch {
	case deny:
		f.redirectDenied(w, r, a)
	case auto != "":
		if _, ok := f.user(auto); !ok {
			f.renderError(w, http.StatusBadRequest, "AutoApprove: no such user")
			return
		}
		f.redirectCode(w, r, a, auto)
	case a.prompt == "none" && f.kind != Naver: // Naver has no prompt
		f.silentSignIn(w, r, a) // silent.go
	default:
		f.renderConsent(w, r, a)
	}
}

// answerConsent handles the consent form: the user allowed or cancelled.
func (f *Fake) answerConsent(w http.ResponseWriter, r *http.Request, a authRequest) {
	switch r.PostForm.Get("action") {
	case "cancel":
		f.redirectDenied(w, r, a)
	case "allow":
		id := r.PostForm.Get("user")
		if _, ok := f.user(id); !ok {
			f.renderError(w, http.StatusBadRequest, "Pick a user. / 사용자를 선택하세요.")
			return
		}
		f.rememberLogin(w, id, a.clientID)
		f.redirectCode(w, r, a, id)
	default:
		f.renderError(w, http.StatusBadRequest, "Unknown action.")
	}
}

func (f *Fake) redirectCode(w http.ResponseWriter, r *http.Request, a authRequest, userID string) {
	f.mu.Lock()
	code := f.issueCodeLocked(userID, a)
	f.mu.Unlock()
	q := url.Values{"code": {code}}
	if f.kind == Google {
		// Google adds these to every callback; clients must ignore them.
		q.Set("scope", googleScope(a.scope))
		q.Set("authuser", "0")
		q.Set("prompt", "consent")
	}
	f.redirectBack(w, r, a, q)
}

func (f *Fake) redirectDenied(w http.ResponseWriter, r *http.Request, a authRequest) {
	q := url.Values{"error": {"access_denied"}}
	switch f.kind {
	case Naver:
		q.Set("error_description", "Canceled By User")
	case Kakao:
		q.Set("error_description", "User denied access")
	case GitHub:
		q.Set("error_description", "The user has denied your application access.")
		q.Set("error_uri", "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied")
	}
	// Google sends no error_description for a denied consent.
	f.redirectBack(w, r, a, q)
}

// redirectBack sends the browser to redirect_uri with params and state,
// keeping any query redirect_uri already had.
func (f *Fake) redirectBack(w http.ResponseWriter, r *http.Request, a authRequest, params url.Values) {
	u, err := url.Parse(a.redirectURI)
	if err != nil { // validated before; kept for safety
		f.renderError(w, http.StatusBadRequest, "invalid redirect_uri")
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if a.state != "" {
		q.Set("state", a.state)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}
