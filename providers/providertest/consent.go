package providertest

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// consentTmpl is self-contained (no external assets) so demo works
// offline; html/template escapes every user- and client-supplied value.
var consentTmpl = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{margin:0;font-family:system-ui,-apple-system,"Apple SD Gothic Neo","Malgun Gothic","Noto Sans KR",sans-serif;background:#f5f6f7;color:#1e1e1e}
header{padding:16px 24px;font-weight:700;font-size:20px}
main{max-width:440px;margin:24px max(12px,calc(50% - 220px));background:#fff;border:1px solid #dadce0;border-radius:8px;padding:24px}
h1{font-size:18px;margin:0 0 8px}
p.app{color:#5f6368;font-size:14px;margin:0 0 16px;word-break:break-all}
fieldset{border:0;padding:0;margin:0}
label.user{display:flex;align-items:center;gap:10px;padding:10px;border:1px solid #dadce0;border-radius:6px;margin-bottom:8px;cursor:pointer}
label.user>span{min-width:0}
label.user span.detail{display:block;color:#5f6368;font-size:13px;overflow-wrap:anywhere}
.buttons{display:flex;flex-direction:row-reverse;gap:8px;margin-top:16px}
button{flex:1 1 auto;padding:12px 10px;font-size:15px;border-radius:6px;border:1px solid #dadce0;background:#fff;cursor:pointer;white-space:nowrap}
p.error{color:#c5221f}
body.google header{background:#fff;color:#1a73e8;border-bottom:1px solid #dadce0}
body.google button.allow{background:#1a73e8;border-color:#1a73e8;color:#fff}
body.naver header{background:#03C75A;color:#fff}
body.naver button.allow{background:#03C75A;border-color:#03C75A;color:#fff}
body.kakao header{background:#FEE500;color:#000}
body.kakao button.allow{background:#FEE500;border-color:#FEE500;color:#000}
</style>
</head>
<body class="{{.Kind}}">
<header>{{.Brand}}</header>
<main>
{{- if .Error}}
<h1>{{.ErrorTitle}}</h1>
<p class="error" id="error">{{.Error}}</p>
{{- else}}
<h1>{{.Heading}}</h1>
<p class="app">{{.AppLine}}</p>
<form method="post" action="{{.Action}}">
{{- range .Hidden}}
<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{- end}}
<fieldset>
{{- range $i, $u := .Users}}
<label class="user" for="user-{{$i}}"><input type="radio" name="user" id="user-{{$i}}" value="{{$u.ID}}"{{if $u.Checked}} checked{{end}}>
<span><span class="label">{{$u.Label}}</span><span class="detail">{{$u.Detail}}</span></span></label>
{{- end}}
</fieldset>
<div class="buttons">
<button type="submit" name="action" value="allow" id="allow" class="allow">{{.Allow}}</button>
<button type="submit" name="action" value="cancel" id="cancel" class="cancel">{{.Cancel}}</button>
</div>
</form>
{{- end}}
</main>
</body>
</html>
`))

type consentUser struct {
	ID, Label, Detail string
	Checked           bool
}

type hiddenField struct{ Name, Value string }

type consentPage struct {
	Kind, Lang, Title, Brand string
	Heading, AppLine         string
	Allow, Cancel            string
	Action                   string
	Hidden                   []hiddenField
	Users                    []consentUser
	ErrorTitle, Error        string
}

// page fills in what every page of this provider shows.
func (f *Fake) page() consentPage {
	switch f.kind {
	case Google:
		return consentPage{Kind: Google, Lang: "en", Title: "Sign in - Google Accounts (fake)",
			Brand: "Google (fake)", Heading: "Choose an account", Allow: "Allow", Cancel: "Cancel",
			ErrorTitle: "Access blocked: authorization error"}
	case GitHub:
		return consentPage{Kind: GitHub, Lang: "en", Title: "Authorize application (fake GitHub)",
			Brand: "GitHub (fake)", Heading: "Authorize application", Allow: "Authorize", Cancel: "Cancel",
			ErrorTitle: "Something went wrong"}
	case OIDC:
		return consentPage{Kind: OIDC, Lang: "en", Title: "Sign in to corp (fake OpenID Connect)",
			Brand: "Corp SSO (fake)", Heading: "Sign in to your account", Allow: "Sign In", Cancel: "Cancel",
			ErrorTitle: "We are sorry..."}
	case Naver:
		return consentPage{Kind: Naver, Lang: "ko", Title: "네이버 로그인 (fake)",
			Brand: "NAVER (fake)", Heading: "네이버 아이디로 로그인", Allow: "동의하고 계속하기", Cancel: "취소",
			ErrorTitle: "오류가 발생했습니다"}
	default:
		return consentPage{Kind: Kakao, Lang: "ko", Title: "카카오계정으로 로그인 (fake)",
			Brand: "kakao (fake)", Heading: "카카오계정으로 로그인", Allow: "동의하고 계속하기", Cancel: "취소",
			ErrorTitle: "잘못된 요청입니다"}
	}
}

func (f *Fake) renderConsent(w http.ResponseWriter, r *http.Request, a authRequest) {
	p := f.localPage(r)
	p.Action = f.basePath + f.authPath()
	host := a.redirectURI
	if u, err := url.Parse(a.redirectURI); err == nil {
		host = u.Host
	}
	if p.Lang == "ko" {
		p.AppLine = a.clientID + " 앱이 " + host + "(으)로 돌아갑니다."
	} else {
		p.AppLine = "to continue to " + a.clientID + " (" + host + ")"
	}
	if a.scope != "" {
		p.AppLine += " scope: " + a.scope
	}
	for _, k := range authParams {
		if v := r.Form.Get(k); v != "" {
			p.Hidden = append(p.Hidden, hiddenField{k, v})
		}
	}
	checked := 0
	for i, u := range f.users {
		if a.loginHint != "" && (a.loginHint == u.Email || a.loginHint == u.ID) {
			checked = i
		}
	}
	for i, u := range f.users {
		detail := []string{}
		if u.Nickname != "" && u.Nickname != u.Name {
			detail = append(detail, u.Nickname)
		}
		if u.Email != "" {
			detail = append(detail, u.Email)
		} else {
			detail = append(detail, map[string]string{"ko": "이메일 없음", "en": "no e-mail"}[p.Lang])
		}
		detail = append(detail, "id "+u.ID)
		p.Users = append(p.Users, consentUser{ID: u.ID, Label: u.label(),
			Detail: strings.Join(detail, " · "), Checked: i == checked})
	}
	f.writePage(w, http.StatusOK, p)
}

func (f *Fake) renderError(w http.ResponseWriter, status int, msg string) {
	p := f.page()
	p.Error = msg
	f.writePage(w, status, p)
}

func (f *Fake) writePage(w http.ResponseWriter, status int, p consentPage) {
	var buf bytes.Buffer
	if err := consentTmpl.Execute(&buf, p); err != nil {
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// No form-action: browsers apply it to the redirect after the POST,
	// which goes to the client's redirect_uri.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
