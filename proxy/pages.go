package proxy

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strconv"

	"golang.org/x/text/language"
)

//go:embed templates/*.html templates/style.css
var templateFS embed.FS

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

// messages holds every string a person reads, per language.
var messages = map[string]map[lang]string{
	"signin_title":    {langEN: "Sign in", langKO: "로그인"},
	"signin_lead":     {langEN: "Choose how to sign in to continue.", langKO: "계속하려면 로그인 방법을 선택하세요."},
	"signin_google":   {langEN: "Sign in with Google", langKO: "Google 계정으로 로그인"},
	"signin_naver":    {langEN: "Sign in with Naver", langKO: "네이버 아이디로 로그인"},
	"signin_kakao":    {langEN: "Sign in with Kakao", langKO: "카카오 로그인"},
	"signin_other":    {langEN: "Sign in with %s", langKO: "%s 계정으로 로그인"},
	"signout_title":   {langEN: "Sign out", langKO: "로그아웃"},
	"signout_lead":    {langEN: "Do you want to sign out?", langKO: "로그아웃하시겠습니까?"},
	"signout_as":      {langEN: "Signed in as", langKO: "로그인 계정"},
	"signout_all":     {langEN: "Sign out on every device", langKO: "모든 기기에서 로그아웃"},
	"signout_button":  {langEN: "Sign out", langKO: "로그아웃"},
	"signout_none":    {langEN: "You are not signed in.", langKO: "로그인되어 있지 않습니다."},
	"cancel":          {langEN: "Cancel", langKO: "취소"},
	"retry":           {langEN: "Try again", langKO: "다시 시도"},
	"home":            {langEN: "Go to the start page", langKO: "처음으로"},
	"request_id":      {langEN: "Request ID", langKO: "요청 ID"},
	"error_title":     {langEN: "Something went wrong", langKO: "문제가 발생했습니다"},
	"err_bad_request": {langEN: "The request is not valid.", langKO: "잘못된 요청입니다."},
	"err_bad_path":    {langEN: "The address is not valid.", langKO: "주소가 올바르지 않습니다."},
	"err_not_found":   {langEN: "No such page.", langKO: "페이지를 찾을 수 없습니다."},
	"err_bad_host":    {langEN: "The host name is not valid.", langKO: "호스트 이름이 올바르지 않습니다."},
	"err_no_route": {langEN: "No application is configured for this address.",
		langKO: "이 주소에 설정된 애플리케이션이 없습니다."},
	"err_method": {langEN: "This method is not allowed here.", langKO: "허용되지 않는 요청 방식입니다."},
	"err_unknown_provider": {langEN: "This sign-in method is not configured.",
		langKO: "설정되지 않은 로그인 방법입니다."},
	"err_state_invalid": {langEN: "This sign-in link has expired or was already used. Please sign in again.",
		langKO: "로그인 요청이 만료되었거나 이미 사용되었습니다. 다시 로그인해 주세요."},
	"err_code_rejected": {langEN: "The sign-in could not be completed (the code was rejected). Please sign in again.",
		langKO: "로그인을 완료하지 못했습니다(인증 코드 거부). 다시 로그인해 주세요."},
	"err_consent_denied": {langEN: "Sign-in was cancelled at the provider.",
		langKO: "로그인이 취소되었습니다."},
	"err_provider_failed": {langEN: "The sign-in provider did not answer correctly. Please try again later.",
		langKO: "로그인 서비스가 올바르게 응답하지 않았습니다. 잠시 후 다시 시도해 주세요."},
	"err_store_unavailable": {langEN: "The service is temporarily unavailable. Please try again shortly.",
		langKO: "일시적으로 서비스를 사용할 수 없습니다. 잠시 후 다시 시도해 주세요."},
	"err_forbidden": {langEN: "Your account is not allowed to use this application.",
		langKO: "이 계정으로는 이 애플리케이션을 사용할 수 없습니다."},
	"err_csrf": {langEN: "The form has expired. Please try again.",
		langKO: "양식이 만료되었습니다. 다시 시도해 주세요."},
	"err_untrusted_proxy": {langEN: "The proxy in front of the gateway is not trusted (server.trusted_proxies).",
		langKO: "게이트웨이 앞의 프록시가 신뢰 목록(server.trusted_proxies)에 없습니다."},
	"err_unauthenticated": {langEN: "Sign-in required.", langKO: "로그인이 필요합니다."},
	"err_upstream":        {langEN: "The application is not reachable.", langKO: "애플리케이션에 연결할 수 없습니다."},
	"err_internal":        {langEN: "Internal error.", langKO: "내부 오류가 발생했습니다."},
}

// pages renders the gateway's own HTML.
type pages struct {
	tmpl *template.Template
	css  []byte
}

func newPages() (*pages, error) {
	p := &pages{}
	t := template.New("").Funcs(template.FuncMap{
		"t": func(l lang, key string) string { return p.text(l, key) },
	})
	t, err := t.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	css, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		return nil, err
	}
	p.tmpl, p.css = t, css
	return p, nil
}

func (p *pages) text(l lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if s, ok := m[l]; ok {
		return s
	}
	return m[langEN]
}

// pageHeaders are sent with every page the gateway renders: the callback URL
// carries a code, so no referrer; nothing is framed, cached or scripted.
// Error pages are also rendered on upstream routes, where ServeHTTP has not
// applied endpointHeaders, so pages apply them here.
func pageHeaders(h http.Header) {
	endpointHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'")
}

// endpointHeaders are the defaults for every answer of the /oauth2/
// endpoints, redirects and JSON included: the start and callback URLs carry
// a state and a code, so no referrer may leak them, and nothing the gateway
// answers there may be framed, sniffed or cached. Pages replace the CSP
// with their own; the stylesheet replaces Cache-Control.
func endpointHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// render executes a page template into a buffer first, so a template error
// never leaves half a page on the wire.
func (p *pages) render(w http.ResponseWriter, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	pageHeaders(w.Header())
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	// A failed write is the client gone: nothing left to answer or report.
	_, _ = w.Write(buf.Bytes())
	return nil
}

func (p *pages) serveCSS(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(p.css)
}

type errorPage struct {
	Lang      lang
	Status    int
	Message   string
	RequestID string
	Retry     string
	Home      string
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, he *httpError) {
	l := langFor(r)
	data := errorPage{
		Lang:      l,
		Status:    he.status,
		Message:   s.pages.text(l, "err_"+he.msg),
		RequestID: requestID(r.Context()),
		Retry:     he.retry,
		Home:      "/",
	}
	if err := s.pages.render(w, he.status, "error.html", data); err != nil {
		http.Error(w, data.Message, he.status)
	}
}
