package providertest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestNewValidates(t *testing.T) {
	ok := Options{ClientID: "id", ClientSecret: "s", BaseURL: "http://127.0.0.1:4180/_fake/x"}
	tests := []struct {
		name    string
		kind    string
		edit    func(*Options)
		wantErr bool
	}{
		{"google", Google, nil, false},
		{"unknown kind", "line", nil, true},
		{"no client id", Naver, func(o *Options) { o.ClientID = "" }, true},
		{"google without secret", Google, func(o *Options) { o.ClientSecret = "" }, true},
		{"naver without secret", Naver, func(o *Options) { o.ClientSecret = "" }, true},
		{"kakao without secret", Kakao, func(o *Options) { o.ClientSecret = "" }, false},
		{"no base url", Kakao, func(o *Options) { o.BaseURL = "" }, true},
		{"relative base url", Kakao, func(o *Options) { o.BaseURL = "/_fake/kakao" }, true},
		{"ftp base url", Kakao, func(o *Options) { o.BaseURL = "ftp://127.0.0.1/" }, true},
		{"duplicate user", Google, func(o *Options) { o.Users = []User{{ID: "1"}, {ID: "1"}} }, true},
		{"empty user id", Google, func(o *Options) { o.Users = []User{{Name: "x"}} }, true},
		{"kakao id not int64", Kakao, func(o *Options) { o.Users = []User{{ID: "18446744073709551615"}} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			if tt.edit != nil {
				tt.edit(&o)
			}
			_, err := New(tt.kind, o)
			if (err != nil) != tt.wantErr {
				t.Errorf("New: got error %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestDefaultUsers(t *testing.T) {
	for _, kind := range []string{Google, Naver, Kakao} {
		users := DefaultUsers(kind)
		if err := validateUsers(kind, users); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
		var noEmail, hangul bool
		for _, u := range users {
			noEmail = noEmail || u.Email == ""
			hangul = hangul || strings.ContainsAny(u.Name+u.Nickname, "홍김이박최")
		}
		if !noEmail || !hangul {
			t.Errorf("%s: got noEmail %v hangul %v, want both", kind, noEmail, hangul)
		}
	}
	if got := DefaultUsers(Kakao)[0].ID; got != "9007199254740993" {
		t.Errorf("kakao: got first id %s, want one above 2^53", got)
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	f, err := New(Kakao, Options{ClientID: testClientID, BaseURL: "http://127.0.0.1:4180/_fake/kakao/"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.URL(), "http://127.0.0.1:4180/_fake/kakao"; got != want {
		t.Errorf("URL: got %q, want %q", got, want)
	}
	if got, want := f.Endpoints().TokenURL, "http://127.0.0.1:4180/_fake/kakao/oauth/token"; got != want {
		t.Errorf("TokenURL: got %q, want %q", got, want)
	}
	for _, path := range []string{"/_fake/kakao/.well-known/openid-configuration", "/.well-known/openid-configuration"} {
		rec := httptest.NewRecorder()
		f.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"issuer":"http://127.0.0.1:4180/_fake/kakao"`) {
			t.Errorf("GET %s: got %d %s, want 200 with the issuer", path, rec.Code, rec.Body)
		}
	}
	// The consent form posts back below the prefix.
	q := authParamsFor(Kakao, nil)
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_fake/kakao/oauth/authorize?"+q.Encode(), nil))
	if !strings.Contains(rec.Body.String(), `action="/_fake/kakao/oauth/authorize"`) {
		t.Errorf("consent page: form action not below the prefix:\n%s", rec.Body)
	}
	if got := f.Requests(); len(got) != 3 || got[2].Path != "/oauth/authorize" {
		t.Errorf("Requests: got %d, want 3 with paths below the prefix", len(got))
	}
}

func TestConsentPage(t *testing.T) {
	tests := []struct {
		kind, colour, allow string
	}{
		{Google, "#1a73e8", "Allow"},
		{Naver, "#03C75A", "동의하고 계속하기"},
		{Kakao, "#FEE500", "동의하고 계속하기"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			f, _ := start(t, tt.kind, "")
			q := authParamsFor(tt.kind, url.Values{"state": {`"><script>alert(1)</script>`}})
			r := get(t, f.Endpoints().AuthURL+"?"+q.Encode(), "")
			page := string(r.body)
			if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html; charset=utf-8") {
				t.Fatalf("got %d %q, want 200 text/html utf-8", r.status, r.header.Get("Content-Type"))
			}
			for _, want := range []string{`<meta charset="utf-8">`, tt.colour, tt.allow, `id="cancel"`,
				`id="user-0"`, DefaultUsers(tt.kind)[0].Label, "&lt;script&gt;"} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if strings.Contains(page, "<script>") || strings.Contains(page, "src=") {
				t.Error("page has a script or external asset")
			}

			// The person picks the second user and allows.
			form := url.Values{"action": {"allow"}, "user": {DefaultUsers(tt.kind)[1].ID}}
			for k, v := range q {
				form[k] = v
			}
			allow := postForm(t, f.Endpoints().AuthURL, form, "")
			loc, _ := url.Parse(allow.header.Get("Location"))
			if allow.status != http.StatusFound || loc.Query().Get("code") == "" ||
				loc.Query().Get("state") != q.Get("state") {
				t.Fatalf("allow: got %d %q, want 302 with code and state", allow.status, loc)
			}
			form.Set("action", "cancel")
			cancel := postForm(t, f.Endpoints().AuthURL, form, "")
			loc, _ = url.Parse(cancel.header.Get("Location"))
			if cancel.status != http.StatusFound || loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" {
				t.Errorf("cancel: got %d %q, want 302 error=access_denied", cancel.status, loc)
			}
			form.Set("action", "allow")
			form.Set("user", "nobody")
			if r := postForm(t, f.Endpoints().AuthURL, form, ""); r.status != http.StatusBadRequest {
				t.Errorf("allow for an unknown user: got %d, want 400", r.status)
			}
		})
	}
}

func TestConsentPageEscapesUsers(t *testing.T) {
	c := newClock()
	f, err := Start(Google, Options{ClientID: testClientID, ClientSecret: testSecret, Now: c.Now,
		Users: []User{{ID: "1", Label: `<img src=x onerror=alert(1)> 홍길동`}}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page := string(get(t, f.Endpoints().AuthURL+"?"+authParamsFor(Google, nil).Encode(), "").body)
	if strings.Contains(page, "<img") || !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt; 홍길동") {
		t.Errorf("label not escaped:\n%s", page)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	tests := []struct {
		name string
		edit func(url.Values)
	}{
		{"unknown client", func(v url.Values) { v.Set("client_id", "evil") }},
		{"relative redirect_uri", func(v url.Values) { v.Set("redirect_uri", "/callback") }},
		{"javascript redirect_uri", func(v url.Values) { v.Set("redirect_uri", "javascript:alert(1)") }},
		{"redirect_uri with fragment", func(v url.Values) { v.Set("redirect_uri", testCallback+"#x") }},
		{"no redirect_uri", func(v url.Values) { v.Del("redirect_uri") }},
	}
	for _, kind := range []string{Google, Naver, Kakao} {
		f, _ := start(t, kind, "")
		f.AutoApprove(DefaultUsers(kind)[0].ID)
		for _, tt := range tests {
			q := authParamsFor(kind, nil)
			tt.edit(q)
			r := get(t, f.Endpoints().AuthURL+"?"+q.Encode(), "")
			if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
				t.Errorf("%s %s: got %d Location %q, want a 400 page", kind, tt.name, r.status, r.header.Get("Location"))
			}
		}
		q := authParamsFor(kind, url.Values{"response_type": {"token"}})
		if cb := authorize(t, f, q); cb.Get("error") != "unsupported_response_type" {
			t.Errorf("%s response_type=token: got %v, want error=unsupported_response_type", kind, cb)
		}
	}
}

func TestDenyConsent(t *testing.T) {
	tests := []struct{ kind, wantDesc string }{
		{Google, ""}, {Naver, "Canceled By User"}, {Kakao, "User denied access"},
	}
	for _, tt := range tests {
		f, _ := start(t, tt.kind, "")
		f.AutoApprove(DefaultUsers(tt.kind)[0].ID)
		f.DenyConsent(true) // wins over AutoApprove
		cb := authorize(t, f, authParamsFor(tt.kind, nil))
		if cb.Get("error") != "access_denied" || cb.Get("error_description") != tt.wantDesc ||
			cb.Get("state") != "st-123" || cb.Has("code") {
			t.Errorf("%s: got %v, want error=access_denied description %q state", tt.kind, cb, tt.wantDesc)
		}
		f.DenyConsent(false)
		if cb := authorize(t, f, authParamsFor(tt.kind, nil)); cb.Get("code") == "" {
			t.Errorf("%s after DenyConsent(false): got %v, want a code", tt.kind, cb)
		}
	}
}

func TestPromptNone(t *testing.T) {
	for _, kind := range []string{Google, Kakao} {
		f, _ := start(t, kind, "")
		q := authParamsFor(kind, url.Values{"prompt": {"none"}})
		if cb := authorize(t, f, q); cb.Get("error") != "login_required" {
			t.Errorf("%s prompt=none: got %v, want error=login_required", kind, cb)
		}
		f.AutoApprove(DefaultUsers(kind)[0].ID)
		if cb := authorize(t, f, q); cb.Get("code") == "" {
			t.Errorf("%s prompt=none with AutoApprove: got %v, want a code", kind, cb)
		}
	}
}

func TestSetDown(t *testing.T) {
	tests := []struct {
		kind, contentType string
		status            int
	}{
		{Google, "text/html", 503}, {Naver, "text/html", 500}, {Kakao, "application/json", 503},
	}
	for _, tt := range tests {
		f, _ := start(t, tt.kind, "")
		f.SetDown(true)
		r := postForm(t, f.Endpoints().TokenURL, url.Values{"grant_type": {"authorization_code"}}, "")
		if r.status != tt.status || !strings.HasPrefix(r.header.Get("Content-Type"), tt.contentType) {
			t.Errorf("%s down: got %d %q, want %d %s", tt.kind, r.status, r.header.Get("Content-Type"), tt.status, tt.contentType)
		}
		f.SetDown(false)
		if r := get(t, f.Endpoints().UserinfoURL, "x"); r.status != http.StatusUnauthorized {
			t.Errorf("%s back up: got %d, want 401", tt.kind, r.status)
		}
	}
}

func TestSetLatency(t *testing.T) {
	f, _ := start(t, Kakao, "")
	f.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.Endpoints().UserinfoURL, nil)
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow fake: got error %v, want context.DeadlineExceeded", err)
	}

	const d = 30 * time.Millisecond
	f.SetLatency(d)
	begin := time.Now()
	get(t, f.Endpoints().UserinfoURL, "x")
	if took := time.Since(begin); took < d {
		t.Errorf("got answer after %v, want at least %v", took, d)
	}
}

func TestRequestsRecordSecrets(t *testing.T) {
	f, _ := start(t, Naver, "")
	get(t, f.Endpoints().TokenURL+"?"+naverTokenQuery("c").Encode(), "")
	postForm(t, f.Endpoints().TokenURL, naverTokenQuery("c"), "")
	got := f.Requests()
	if len(got) != 2 {
		t.Fatalf("got %d requests, want 2", len(got))
	}
	if got[0].Form.Get("client_secret") != testSecret || got[0].PostForm.Get("client_secret") != "" {
		t.Errorf("GET: got form %v post form %v, want the secret in the query only", got[0].Form, got[0].PostForm)
	}
	if got[1].PostForm.Get("client_secret") != testSecret || got[1].Method != http.MethodPost {
		t.Errorf("POST: got %s post form %v, want the secret in the body", got[1].Method, got[1].PostForm)
	}
	if got[1].Path != "/oauth2.0/token" {
		t.Errorf("Path: got %q, want /oauth2.0/token", got[1].Path)
	}
}

func TestIssueCodeUnknownUser(t *testing.T) {
	f, _ := start(t, Google, "")
	if got := f.IssueCode("nobody", testCallback, AuthParams{}); got != "" {
		t.Errorf("got %q, want \"\"", got)
	}
}

// TestConcurrentUse runs logins while the controls change, for -race.
func TestConcurrentUse(t *testing.T) {
	f, _ := start(t, Kakao, "")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 50 {
			f.SetDown(false)
			f.SetLatency(0)
			f.AutoApprove(DefaultUsers(Kakao)[i%2].ID)
			f.FailRefresh("")
			_ = f.Requests()
			_ = f.RevokedTokens()
		}
	}()
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			code := f.IssueCode(kakaoHong, testCallback, AuthParams{})
			form := url.Values{"grant_type": {"authorization_code"}, "client_id": {testClientID},
				"redirect_uri": {testCallback}, "code": {code}}
			resp, err := http.PostForm(f.Endpoints().TokenURL, form)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = errors.New(resp.Status)
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("token: got %v, want 200", err)
		}
	}
	<-done
}
