package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socialgate/socialgate/bearer"
	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/proxy"
	"github.com/socialgate/socialgate/session"
)

// demo runs the whole flow in one process: the gateway, fake Google, Naver,
// Kakao, GitHub and a generic OpenID Connect issuer (each with a consent
// page) and an authorization server for machine clients mounted under
// /_fake/, and a sample
// app that shows the headers it received. No secrets, no Redis.
func (c *cli) demo(ctx context.Context, args []string) error {
	fs := c.flags("demo")
	addr := fs.String("addr", "127.0.0.1:4180", "listen `address`")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	stdout := c.stdout
	log := newLogger(c.stderr, slog.LevelInfo)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer ln.Close()
	// --addr :4180 listens everywhere; the browser still needs a concrete
	// address for the callbacks and cookies.
	tcp := ln.Addr().(*net.TCPAddr)
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	public := "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port))

	app, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: sample app: %w", err)
	}
	appSrv := &http.Server{Handler: http.HandlerFunc(sampleApp), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = appSrv.Serve(app) }()
	defer appSrv.Close()

	mux := http.NewServeMux()
	var provs []proxy.Provider
	// Four kinds side by side: the three built in, GitHub from goth's
	// catalogue, and a generic OpenID Connect issuer (a "company SSO")
	// configured by its issuer alone, as an operator configures Keycloak.
	for _, in := range []struct{ id, kind, display string }{
		{"kakao", "kakao", ""}, {"naver", "naver", ""}, {"google", "google", ""},
		{"github", "github", ""}, {"corp", "oidc", "사내 계정 (OpenID Connect)"},
	} {
		id, kind := in.id, in.kind
		secret := "demo-" + id + "-secret"
		if kind == "kakao" {
			secret = "" // Kakao apps often have no client secret
		}
		fake, err := providertest.New(kind, providertest.Options{
			ClientID: "demo-" + id, ClientSecret: secret, BaseURL: public + "/_fake/" + id,
			OIDC: providertest.OIDCOptions{PKCE: true},
		})
		if err != nil {
			return fmt.Errorf("demo: fake %s: %w", id, err)
		}
		mux.Handle("/_fake/"+id+"/", fake)
		ep := fake.Endpoints()
		if kind == "oidc" {
			ep = providertest.Endpoints{Issuer: ep.Issuer} // the rest from discovery
		}
		p, err := providers.New(providers.Options{
			Name: id, Kind: kind, DisplayName: in.display, ClientID: "demo-" + id, ClientSecret: secret,
			RedirectURL: public + "/oauth2/callback/" + id,
			Endpoints: providers.Endpoints{
				AuthURL: ep.AuthURL, TokenURL: ep.TokenURL, UserinfoURL: ep.UserinfoURL,
				Issuer: ep.Issuer, JWKSURL: ep.JWKSURL, RevokeURL: ep.RevokeURL,
			},
			// Open the demo in KakaoTalk (or with its User-Agent): a
			// returning Kakao user is signed in without a click.
			AutoLogin: kind == "kakao",
		})
		if err != nil {
			return fmt.Errorf("demo: provider %s: %w", id, err)
		}
		provs = append(provs, p)
	}

	// A company authorization server for machine clients: a script gets a
	// token with the client-credentials grant and calls /api/ with it.
	sso, err := providertest.NewAuthServer(providertest.AuthServerOptions{
		BaseURL: public + "/_fake/sso", Audience: "demo-api",
		Clients: []providertest.AuthClient{{ID: "demo-script", Secret: "demo-script-secret", Scopes: []string{"wiki.read"}}},
	})
	if err != nil {
		return fmt.Errorf("demo: authorization server: %w", err)
	}
	mux.Handle("/_fake/sso/", sso)
	verifier, err := bearer.New(bearer.Options{Issuers: []bearer.Issuer{{Issuer: sso.URL()}}})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	store := session.NewMemory(session.MemoryOptions{})
	defer store.Close()
	cookies, err := session.NewCookies(session.CookieOptions{Secret: secret})
	if err != nil {
		return err
	}
	// Accounts on, so /oauth2/ can connect a second provider to the same
	// person; the links live in a file that goes with the demo.
	dir, err := os.MkdirTemp("", "socialgate-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(dir)
	mgr, err := session.NewManager(session.ManagerOptions{Store: store,
		Accounts: session.AccountsOptions{Enabled: true, File: filepath.Join(dir, "accounts.json")}})
	if err != nil {
		return err
	}
	defer mgr.Close()
	appURL := &url.URL{Scheme: "http", Host: app.Addr().String()}
	gw, err := proxy.New(proxy.Options{
		PublicURL: public,
		Providers: provs,
		Sessions:  mgr,
		Cookies:   cookies,
		Routes: []proxy.Route{
			{Name: "sample", Path: "/", URL: appURL},
			{Name: "sample-public", Path: "/public", URL: appURL, Public: true},
			{Name: "sample-api", Path: "/api/", URL: appURL,
				Bearer: []bearer.Audience{{Issuer: sso.URL(), Audiences: []string{"demo-api"}}},
				Allow:  proxy.Allow{Scopes: []string{"wiki.read"}}},
		},
		Bearer: verifier,
		Logger: log,
		UI:     proxy.UIOptions{AppName: "사내 위키"},
	})
	if err != nil {
		return err
	}
	mux.Handle("/", gw)

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "socialgate demo: open %s/ in a browser (Ctrl-C to stop)\n", public)
	fmt.Fprintf(stdout, "machine client: TOKEN=$(curl -s -u demo-script:demo-script-secret -d grant_type=client_credentials -d scope=wiki.read %s | jq -r .access_token)\n", sso.TokenURL())
	fmt.Fprintf(stdout, "                curl -H \"Authorization: Bearer $TOKEN\" %s/api/\n", public)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

var sampleTmpl = template.Must(template.New("app").Parse(`<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sample app behind socialgate</title>
<style>
body{font:16px/1.5 -apple-system,"Apple SD Gothic Neo","Malgun Gothic","Noto Sans KR",sans-serif;max-width:760px;margin:40px auto;padding:0 16px;color:#1f2328}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #d1d9e0;padding:6px 8px;text-align:left;vertical-align:top;word-break:break-all}
th{background:#f6f8fa}.hello{font-size:1.3rem}code{background:#f6f8fa;padding:1px 4px;border-radius:4px}
nav a{margin-right:12px}
</style></head><body>
<h1>Sample app</h1>
{{if .User}}<p class="hello">안녕하세요, <strong id="name">{{.Name}}</strong>님 ({{.User}})</p>
{{else}}<p class="hello">Not signed in (public page).</p>{{end}}
<p>This app has no login of its own. socialgate sent it these headers:</p>
<table id="headers"><tr><th>header</th><th>value as sent</th><th>decoded</th></tr>
{{range .Rows}}<tr><td><code>{{.Name}}</code></td><td><code>{{.Value}}</code></td><td>{{.Decoded}}</td></tr>
{{end}}</table>
<p>Request: <code>{{.Method}} {{.URI}}</code> · Cookies the app received: <code>{{.Cookies}}</code></p>
<nav><a href="/app/보고서?id=3&amp;q=%ED%95%9C">a deep link</a><a href="/public/">public page</a>
<a href="/oauth2/">your account: connect Naver, Google… to the same user</a><a href="/oauth2/sessions">your sessions</a>
<a href="/oauth2/userinfo">/oauth2/userinfo</a><a href="/oauth2/sign_out">sign out</a><a href="/oauth2/sign_in">sign in</a></nav>
</body></html>`))

type headerRow struct{ Name, Value, Decoded string }

// sampleApp is the demo's upstream: a page showing what it received.
func sampleApp(w http.ResponseWriter, r *http.Request) {
	var rows []headerRow
	for name, vals := range r.Header {
		if !strings.HasPrefix(name, "X-") {
			continue
		}
		for _, v := range vals {
			dec, err := url.PathUnescape(v)
			if err != nil {
				dec = v
			}
			rows = append(rows, headerRow{name, v, dec})
		}
	}
	slices.SortFunc(rows, func(a, b headerRow) int { return strings.Compare(a.Name, b.Name) })
	name, _ := url.PathUnescape(r.Header.Get("X-Forwarded-Preferred-Username"))
	cookies := r.Header.Get("Cookie")
	if cookies == "" {
		cookies = "(none)"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = sampleTmpl.Execute(w, map[string]any{
		"User": r.Header.Get("X-Forwarded-User"), "Name": name, "Rows": rows,
		"Method": r.Method, "URI": r.RequestURI, "Cookies": cookies,
	})
}
