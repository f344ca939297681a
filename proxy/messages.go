package proxy

import (
	"net/http"

	"golang.org/x/text/language"
)

// lang is a page language. Every page is rendered from a template with a
// lang parameter; adding a language is adding a column to messages.
type lang string

const (
	langEN lang = "en"
	langKO lang = "ko"
)

var langMatcher = language.NewMatcher([]language.Tag{language.English, language.Korean})

// langFor picks Korean or English from ?lang= or Accept-Language.
func langFor(r *http.Request) lang {
	switch r.URL.Query().Get("lang") {
	case "ko":
		return langKO
	case "en":
		return langEN
	}
	al := r.Header.Get("Accept-Language")
	if al == "" {
		return langEN
	}
	tags, _, err := language.ParseAcceptLanguage(al)
	if err != nil || len(tags) == 0 {
		return langEN
	}
	_, i, conf := langMatcher.Match(tags...)
	if i == 1 && conf != language.No {
		return langKO
	}
	return langEN
}

// errKey names what went wrong, for the person (page title and message in
// every language, from messages "title_"+key and "err_"+key) and for API
// clients (the "error" field of the JSON answer).
type errKey string

// The error keys. Each has an "err_" message in every language and may
// have a "title_" (default: "error_title"); TestErrorKeysHaveText checks.
const (
	errBadRequest       errKey = "bad_request"
	errBadPath          errKey = "bad_path"
	errBadHost          errKey = "bad_host"
	errNoRoute          errKey = "no_route"
	errNotFound         errKey = "not_found"
	errMethod           errKey = "method"
	errUnknownProvider  errKey = "unknown_provider"
	errStateInvalid     errKey = "state_invalid"
	errCodeRejected     errKey = "code_rejected"
	errConsentDenied    errKey = "consent_denied"
	errProviderFailed   errKey = "provider_failed"
	errStoreUnavailable errKey = "store_unavailable"
	errTooManyLogins    errKey = "too_many_logins"
	errLoginsFull       errKey = "logins_full"
	errForbidden        errKey = "forbidden"
	errCSRF             errKey = "csrf"
	errUntrustedProxy   errKey = "untrusted_proxy"
	errForgedIdentity   errKey = "forged_identity"
	errUnauthenticated  errKey = "unauthenticated"
	errUpstream         errKey = "upstream"
	errInternal         errKey = "internal"
	// Bearer-token refusals (bearer.go): the key is also the RFC 6750
	// error code sent in WWW-Authenticate, where there is one.
	errInvalidToken      errKey = "invalid_token"
	errInvalidRequest    errKey = "invalid_request"
	errInsufficientScope errKey = "insufficient_scope"
	errBearerUnavailable errKey = "bearer_unavailable"
	errFormTooLarge      errKey = "form_too_large"

	// Accounts, the person's sessions, logout at the provider.
	errBadLogoutToken     errKey = "bad_logout_token"
	errUnlinkUnauthorized errKey = "unlink_unauthorized"
	errIdentityTaken      errKey = "identity_taken"
	errLastIdentity       errKey = "last_identity"
	errAccountMissing     errKey = "account_missing"
	errConnectSignedOut   errKey = "connect_signed_out"
	errNotLinked          errKey = "not_linked"
	errSessionGone        errKey = "session_gone"
)

// messages holds every string a person reads, per language. Templates look
// them up with {{t .Lang "key"}}.
var messages = map[string]map[lang]string{
	"signin_title":     {langEN: "Sign in", langKO: "로그인"},
	"signin_title_app": {langEN: "Sign in to %s", langKO: "%s에 로그인"},
	"signin_lead":      {langEN: "Choose how to sign in to continue.", langKO: "계속하려면 로그인 방법을 선택하세요."},
	"signin_google":    {langEN: "Sign in with Google", langKO: "Google 계정으로 로그인"},
	"signin_naver":     {langEN: "Sign in with Naver", langKO: "네이버 로그인"},
	"signin_kakao":     {langEN: "Sign in with Kakao", langKO: "카카오 로그인"},
	"signin_other":     {langEN: "Sign in with %s", langKO: "%s 계정으로 로그인"},
	"signed_out":       {langEN: "You have signed out.", langKO: "로그아웃되었습니다."},
	"inapp_title":      {langEN: "Open in your browser", langKO: "다른 브라우저로 열어 주세요"},
	"inapp_lead": {langEN: "Google does not allow signing in inside %s. Open this page in your phone's browser (Chrome, Safari) to use every sign-in option.",
		langKO: "%s 안에서는 Google 로그인을 쓸 수 없습니다. 휴대폰의 기본 브라우저(Chrome, Safari)에서 열면 모든 로그인 방법을 쓸 수 있습니다."},
	"inapp_open":           {langEN: "Open in browser", langKO: "기본 브라우저로 열기"},
	"inapp_copy_lead":      {langEN: "Copy this address and paste it into Safari or Chrome:", langKO: "이 주소를 복사해 Safari나 Chrome에 붙여 넣으세요:"},
	"inapp_copy":           {langEN: "Copy link", langKO: "링크 복사"},
	"inapp_copied":         {langEN: "Copied", langKO: "복사했습니다"},
	"inapp_google_off":     {langEN: "Google sign-in works only in your phone's browser.", langKO: "Google 로그인은 기본 브라우저에서만 할 수 있습니다."},
	"inapp_external":       {langEN: "opens your browser", langKO: "기본 브라우저에서 열림"},
	"signout_title":        {langEN: "Sign out", langKO: "로그아웃"},
	"signout_lead":         {langEN: "Do you want to sign out?", langKO: "로그아웃하시겠습니까?"},
	"signout_as":           {langEN: "Signed in as", langKO: "로그인 계정"},
	"signout_all":          {langEN: "Sign out on every device", langKO: "모든 기기에서 로그아웃"},
	"signout_button":       {langEN: "Sign out", langKO: "로그아웃"},
	"signout_none":         {langEN: "You are not signed in.", langKO: "로그인되어 있지 않습니다."},
	"switch_account":       {langEN: "Use another account", langKO: "다른 계정으로 로그인"},
	"cancel":               {langEN: "Cancel", langKO: "취소"},
	"retry":                {langEN: "Try again", langKO: "다시 시도"},
	"retry_signin":         {langEN: "Sign in again", langKO: "다시 로그인"},
	"home":                 {langEN: "Start page", langKO: "처음으로"},
	"request_id":           {langEN: "Request ID", langKO: "요청 ID"},
	"error_title":          {langEN: "Something went wrong", langKO: "문제가 발생했습니다"},
	"title_form_too_large": {langEN: "Form too large to keep", langKO: "양식이 너무 커서 보관할 수 없습니다"},
	"err_form_too_large": {langEN: "You were signed out, and this form is too large to be kept while you sign in again. Sign in, then fill in and send the form again.",
		langKO: "로그인이 끝나 있었고, 이 양식은 다시 로그인하는 동안 보관하기에는 너무 큽니다. 로그인한 뒤 양식을 다시 작성해 보내 주세요."},
	"title_consent_denied":    {langEN: "Sign-in cancelled", langKO: "로그인이 취소되었습니다"},
	"title_state_invalid":     {langEN: "Sign-in expired", langKO: "로그인 시간이 지났습니다"},
	"title_code_rejected":     {langEN: "Sign-in not completed", langKO: "로그인을 완료하지 못했습니다"},
	"title_forbidden":         {langEN: "No access", langKO: "접근 권한이 없습니다"},
	"title_not_found":         {langEN: "Page not found", langKO: "페이지를 찾을 수 없습니다"},
	"title_csrf":              {langEN: "Form expired", langKO: "양식이 만료되었습니다"},
	"title_store_unavailable": {langEN: "Temporarily unavailable", langKO: "일시적으로 사용할 수 없습니다"},
	"err_bad_request":         {langEN: "The request is not valid.", langKO: "잘못된 요청입니다."},
	"err_bad_path":            {langEN: "The address is not valid.", langKO: "주소가 올바르지 않습니다."},
	"err_not_found":           {langEN: "There is no page at this address.", langKO: "이 주소에는 페이지가 없습니다."},
	"err_bad_host":            {langEN: "The host name is not valid.", langKO: "호스트 이름이 올바르지 않습니다."},
	"err_forged_identity": {langEN: "The request carries an identity header only the gateway may set.",
		langKO: "게이트웨이만 설정할 수 있는 신원 헤더가 요청에 들어 있습니다."},
	"err_no_route": {langEN: "No application is configured for this address.",
		langKO: "이 주소에 설정된 애플리케이션이 없습니다."},
	"err_method": {langEN: "This method is not allowed here.", langKO: "허용되지 않는 요청 방식입니다."},
	"err_unknown_provider": {langEN: "This sign-in method is not configured.",
		langKO: "설정되지 않은 로그인 방법입니다."},
	"err_state_invalid": {langEN: "This sign-in has expired or was already used. Please sign in again.",
		langKO: "로그인 요청이 만료되었거나 이미 사용되었습니다. 다시 로그인해 주세요."},
	"err_code_rejected": {langEN: "The sign-in could not be completed (the code was rejected). Please sign in again.",
		langKO: "로그인을 완료하지 못했습니다(인증 코드 거부). 다시 로그인해 주세요."},
	"err_consent_denied": {langEN: "You cancelled the sign-in. You can sign in again whenever you like.",
		langKO: "로그인을 취소했습니다. 언제든 다시 로그인할 수 있습니다."},
	"err_provider_failed": {langEN: "The sign-in provider did not answer correctly. Please try again later.",
		langKO: "로그인 서비스가 올바르게 응답하지 않았습니다. 잠시 후 다시 시도해 주세요."},
	"title_too_many_logins": {langEN: "Too many sign-ins", langKO: "로그인 요청이 너무 많습니다"},
	"err_too_many_logins": {langEN: "Too many sign-ins were started from your network. Please wait a few minutes and try again.",
		langKO: "사용 중인 네트워크에서 너무 많은 로그인이 시작되었습니다. 몇 분 후 다시 시도해 주세요."},
	"title_logins_full": {langEN: "Temporarily unavailable", langKO: "일시적으로 사용할 수 없습니다"},
	"err_logins_full": {langEN: "Too many sign-ins are in progress right now. Please try again in a few minutes.",
		langKO: "지금 진행 중인 로그인이 너무 많습니다. 몇 분 후 다시 시도해 주세요."},
	"err_store_unavailable": {langEN: "The service is temporarily unavailable. Please try again shortly.",
		langKO: "일시적으로 서비스를 사용할 수 없습니다. 잠시 후 다시 시도해 주세요."},
	"err_forbidden": {langEN: "Your account is not allowed to use this application.",
		langKO: "이 계정으로는 이 애플리케이션을 사용할 수 없습니다."},
	"err_csrf": {langEN: "The form has expired. Please try again.",
		langKO: "양식이 만료되었습니다. 다시 시도해 주세요."},
	"err_invalid_token": {langEN: "The access token is not valid here (expired, badly signed, or for another issuer or audience).",
		langKO: "액세스 토큰이 유효하지 않습니다(만료, 서명 오류, 또는 다른 발급자·대상의 토큰)."},
	"err_invalid_request": {langEN: "The request carries more than one bearer token or a malformed one.",
		langKO: "요청에 베어러 토큰이 여러 개이거나 형식이 잘못되었습니다."},
	"err_insufficient_scope": {langEN: "The access token lacks a scope this application requires.",
		langKO: "액세스 토큰에 이 애플리케이션이 요구하는 권한 범위(scope)가 없습니다."},
	"err_bearer_unavailable": {langEN: "The token issuer's keys cannot be fetched right now. Please try again shortly.",
		langKO: "토큰 발급자의 키를 지금 가져올 수 없습니다. 잠시 후 다시 시도해 주세요."},
	"err_untrusted_proxy": {langEN: "The proxy in front of the gateway is not trusted (server.trusted_proxies).",
		langKO: "게이트웨이 앞의 프록시가 신뢰 목록(server.trusted_proxies)에 없습니다."},
	"err_unauthenticated": {langEN: "Sign-in required.", langKO: "로그인이 필요합니다."},
	"err_upstream":        {langEN: "The application is not reachable.", langKO: "애플리케이션에 연결할 수 없습니다."},
	"err_internal":        {langEN: "Internal error.", langKO: "내부 오류가 발생했습니다."},

	// Accounts, the person's sessions, logout at the provider (accounts.go,
	// sessions.go, logout.go).
	"signed_out_title": {langEN: "Signed out", langKO: "로그아웃되었습니다"},
	"signed_out_lead": {langEN: "You are signed out of this site and of your sign-in provider.",
		langKO: "이 사이트와 로그인 서비스에서 모두 로그아웃되었습니다."},
	"account_title":          {langEN: "Your account", langKO: "내 계정"},
	"account_signed_in_with": {langEN: "Signed in with", langKO: "로그인 방법"},
	"account_user_id":        {langEN: "User ID", langKO: "사용자 ID"},
	"account_linked":         {langEN: "Linked accounts", langKO: "연결된 계정"},
	"account_current":        {langEN: "this sign-in", langKO: "현재 로그인"},
	"account_connect":        {langEN: "Connect", langKO: "연결하기"},
	"account_disconnect":     {langEN: "Disconnect", langKO: "연결 해제"},
	"account_sessions":       {langEN: "Signed-in devices", langKO: "로그인된 기기"},
	"sessions_title":         {langEN: "Signed-in devices", langKO: "로그인된 기기"},
	"sessions_lead": {langEN: "Every browser signed in to your account. End the ones you do not recognise.",
		langKO: "내 계정에 로그인된 모든 브라우저입니다. 모르는 기기는 로그아웃하세요."},
	"sessions_current":        {langEN: "this device", langKO: "현재 기기"},
	"sessions_started":        {langEN: "signed in", langKO: "로그인"},
	"sessions_last_seen":      {langEN: "last used", langKO: "마지막 사용"},
	"sessions_end":            {langEN: "Sign out this device", langKO: "이 기기 로그아웃"},
	"sessions_end_others":     {langEN: "Sign out every other device", langKO: "다른 모든 기기 로그아웃"},
	"sessions_unknown_device": {langEN: "Unknown device", langKO: "알 수 없는 기기"},
	"title_identity_taken":    {langEN: "Already linked to another user", langKO: "다른 사용자에게 연결된 계정"},
	"err_bad_logout_token":    {langEN: "The logout token is not valid.", langKO: "로그아웃 토큰이 올바르지 않습니다."},
	"err_unlink_unauthorized": {langEN: "The unlink callback is not authorized.", langKO: "연결 끊기 요청의 인증에 실패했습니다."},
	"err_identity_taken": {langEN: "This account is already linked to another user of this site, so it cannot be linked to you: links are never moved from one user to another. Sign in with it to use that user, or disconnect it there first if that user has another way to sign in.",
		langKO: "이 계정은 이 사이트의 다른 사용자에게 이미 연결되어 있어 연결할 수 없습니다. 연결은 다른 사용자에게 옮겨지지 않습니다. 그 계정으로 로그인해 해당 사용자를 이용하거나, 그 사용자에게 다른 로그인 방법이 있다면 먼저 연결을 해제해 주세요."},
	"err_last_identity": {langEN: "This is your only way to sign in, so it cannot be disconnected. Connect another account first.",
		langKO: "유일한 로그인 방법이라 연결을 해제할 수 없습니다. 다른 계정을 먼저 연결해 주세요."},
	"err_account_missing": {langEN: "Your user was not found. Please sign in again.",
		langKO: "사용자 정보를 찾을 수 없습니다. 다시 로그인해 주세요."},
	"err_connect_signed_out": {langEN: "You were signed out before the account could be connected. Please sign in and try again.",
		langKO: "계정을 연결하기 전에 로그아웃되었습니다. 다시 로그인한 뒤 시도해 주세요."},
	"err_not_linked":   {langEN: "That account is not linked to you.", langKO: "연결되지 않은 계정입니다."},
	"err_session_gone": {langEN: "That session has already ended.", langKO: "이미 종료된 세션입니다."},
}

// text returns the message for key in l, falling back to English and then
// to the key itself (a missing text shows up in tests, not as a blank).
func text(l lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if s, ok := m[l]; ok {
		return s
	}
	return m[langEN]
}

// errorTitle is the page title for key: its own when it has one.
func errorTitle(l lang, key errKey) string {
	if _, ok := messages["title_"+string(key)]; ok {
		return text(l, "title_"+string(key))
	}
	return text(l, "error_title")
}
