package main

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers/providertest"
)

// formApp records every POST it receives, byte for byte.
type formApp struct {
	mu    sync.Mutex
	posts []recordedPost
}

type recordedPost struct {
	contentType, user string
	body              []byte
	values            url.Values
	file              []byte
}

func (a *formApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		_, _ = io.WriteString(w, "form page "+r.Method)
		return
	}
	body, _ := io.ReadAll(r.Body)
	p := recordedPost{contentType: r.Header.Get("Content-Type"), user: r.Header.Get("X-Forwarded-User"), body: body}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if mt, _, _ := mime.ParseMediaType(p.contentType); mt == "multipart/form-data" {
		if err := r.ParseMultipartForm(1 << 20); err == nil {
			p.values = url.Values(r.MultipartForm.Value)
			if fh := r.MultipartForm.File["attachment"]; len(fh) == 1 {
				f, _ := fh[0].Open()
				p.file, _ = io.ReadAll(f)
				f.Close()
			}
		}
	} else if err := r.ParseForm(); err == nil {
		p.values = r.PostForm
	}
	a.mu.Lock()
	a.posts = append(a.posts, p)
	a.mu.Unlock()
	_, _ = io.WriteString(w, "saved")
}

func (a *formApp) recorded() []recordedPost {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]recordedPost(nil), a.posts...)
}

// formBrowser is a cookie-keeping browser that follows redirects until
// stop says so.
func formBrowser(stop func(*http.Request) bool) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if stop != nil && stop(req) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// postForm sends a browser form POST from a page of origin.
func postForm(t *testing.T, b *http.Client, u, contentType string, body []byte, origin, accept string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", accept)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := b.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	return resp
}

const browserAccept = "text/html,application/xhtml+xml,*/*;q=0.8"

// multipartForm is a form with a Hangul field and a binary file.
func multipartForm(t *testing.T) (string, []byte, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("제목", "안녕하세요 — 한글 값 ✓")
	_ = mw.WriteField("note", "line1\r\nline2")
	file := append([]byte("\x00\xff\r\n--not-a-boundary\r\n"), bytes.Repeat([]byte{0xEC, 0x95, 0x88}, 200)...)
	fw, _ := mw.CreateFormFile("attachment", "보고서.bin")
	_, _ = fw.Write(file)
	_ = mw.Close()
	return mw.FormDataContentType(), buf.Bytes(), file
}

// TestFormReplay: a browser form POST without a session (urlencoded, and
// multipart with a file and a Hangul field) is delivered to its URL after
// the login, once, byte for byte with its content type and the identity;
// sending the landing request again does not deliver it a second time.
func TestFormReplay(t *testing.T) {
	app := &formApp{}
	up := httptest.NewServer(app)
	t.Cleanup(up.Close)
	s := serveConfig(t, servedConfig{upstream: up.URL, extra: "login:\n  replay_max_bytes: 4096\n"})
	user := providertest.DefaultUsers("kakao")[0].ID
	mct, mbody, mfile := multipartForm(t)
	for _, tc := range []struct {
		name, contentType string
		body              []byte
		field, want       string
	}{
		{"urlencoded", "application/x-www-form-urlencoded", []byte("title=%EB%B3%B4%EA%B3%A0%EC%84%9C&body=%ED%95%9C%EA%B8%80+%26+more&x=a%2Bb"), "title", "보고서"},
		{"multipart", mct, mbody, "제목", "안녕하세요 — 한글 값 ✓"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(app.recorded())
			target := s.URL + "/wiki/edit?page=" + url.QueryEscape("대문")
			// The browser stops at the landing GET, to send it twice.
			b := formBrowser(func(r *http.Request) bool { return r.URL.Path == "/wiki/edit" })
			resp := postForm(t, b, target, tc.contentType, tc.body, s.URL, browserAccept)
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/oauth2/sign_in" {
				t.Fatalf("form without session: landed on %s with %d, want the sign-in page", resp.Request.URL, resp.StatusCode)
			}
			if !bytes.Contains(page, []byte("/oauth2/start/kakao")) {
				t.Fatalf("sign-in page without the kakao button:\n%s", page)
			}
			if n := len(app.recorded()); n != before {
				t.Fatalf("the app got the form before the login")
			}
			s.kakao.AutoApprove(user)
			resp, err := b.Get(s.URL + "/oauth2/start/kakao?" + url.Values{"rd": {target}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			land := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusFound || land != target {
				t.Fatalf("callback: %d to %q, want 302 to %q", resp.StatusCode, land, target)
			}
			// The landing request, as the browser sends it, twice.
			u, _ := url.Parse(s.URL)
			var cookies []string
			for _, ck := range b.Jar.Cookies(u) {
				cookies = append(cookies, ck.Name+"="+ck.Value)
			}
			landing := func() (int, string) {
				req, _ := http.NewRequest(http.MethodGet, target, nil)
				req.Header.Set("Accept", browserAccept)
				req.Header.Set("Cookie", strings.Join(cookies, "; "))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(body)
			}
			if code, body := landing(); code != http.StatusOK || body != "saved" {
				t.Fatalf("landing: %d %q, want the app's answer to the form", code, body)
			}
			if code, body := landing(); code != http.StatusOK || body != "form page GET" {
				t.Fatalf("landing again: %d %q, want a plain GET (no second replay)", code, body)
			}
			posts := app.recorded()[before:]
			if len(posts) != 1 {
				t.Fatalf("the app got %d POSTs, want exactly 1", len(posts))
			}
			p := posts[0]
			if !bytes.Equal(p.body, tc.body) {
				t.Errorf("body not byte-exact:\ngot  %q\nwant %q", p.body, tc.body)
			}
			if p.contentType != tc.contentType {
				t.Errorf("content type %q, want %q", p.contentType, tc.contentType)
			}
			if p.user != "kakao:"+user {
				t.Errorf("X-Forwarded-User %q", p.user)
			}
			if got := p.values.Get(tc.field); got != tc.want {
				t.Errorf("field %s = %q, want %q", tc.field, got, tc.want)
			}
			if tc.name == "multipart" && !bytes.Equal(p.file, mfile) {
				t.Errorf("file not byte-exact: %d bytes, want %d", len(p.file), len(mfile))
			}
		})
	}
}

// TestFormReplayRefused: a form larger than replay_max_bytes gets a clear
// 413 page; API clients and cross-site forms still get 401, and nothing
// reaches the app.
func TestFormReplayRefused(t *testing.T) {
	app := &formApp{}
	up := httptest.NewServer(app)
	t.Cleanup(up.Close)
	s := serveConfig(t, servedConfig{upstream: up.URL, extra: "login:\n  replay_max_bytes: 4096\n"})
	form := "application/x-www-form-urlencoded"
	big := []byte("text=" + strings.Repeat("%ED%95%9C", 2000))
	for _, tc := range []struct {
		name, contentType, origin, accept string
		body                              []byte
		want                              int
		page                              string
	}{
		{"too large", form, s.URL, browserAccept, big, http.StatusRequestEntityTooLarge, "too large"},
		{"too large, chunked", form, s.URL, browserAccept, nil, http.StatusRequestEntityTooLarge, "too large"},
		{"API client", "application/json", s.URL, "application/json", []byte(`{"a":1}`), http.StatusUnauthorized, "unauthenticated"},
		{"cross-site form", form, "https://evil.example", browserAccept, []byte("a=1"), http.StatusUnauthorized, "unauthenticated"},
		{"form without Origin", form, "", browserAccept, []byte("a=1"), http.StatusUnauthorized, "unauthenticated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := formBrowser(func(*http.Request) bool { return true })
			var body io.Reader = bytes.NewReader(tc.body)
			if tc.body == nil { // chunked: no Content-Length to refuse early
				body = io.MultiReader(bytes.NewReader(big))
			}
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/wiki/edit", body)
			req.Header.Set("Content-Type", tc.contentType)
			req.Header.Set("Accept", tc.accept)
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			resp, err := b.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want || !strings.Contains(strings.ToLower(string(page)), tc.page) {
				t.Errorf("status %d, want %d with %q:\n%.300s", resp.StatusCode, tc.want, tc.page, page)
			}
		})
	}
	if n := len(app.recorded()); n != 0 {
		t.Errorf("the app got %d POSTs", n)
	}
}
