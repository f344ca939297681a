package providertest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func fuzzFakes(f *testing.F) map[string]*Fake {
	fakes := map[string]*Fake{}
	for _, kind := range []string{Google, Naver, Kakao} {
		fk, err := New(kind, Options{ClientID: testClientID, ClientSecret: testSecret, BaseURL: "http://127.0.0.1:4180/_fake/" + kind})
		if err != nil {
			f.Fatal(err)
		}
		fakes[kind] = fk
	}
	return fakes
}

// FuzzAuthorize feeds /authorize arbitrary queries and consent forms: the
// fake must never fail with 5xx, and a redirect may only go to the
// redirect_uri the request named.
func FuzzAuthorize(f *testing.F) {
	fakes := fuzzFakes(f)
	for _, kind := range []string{Google, Naver, Kakao} {
		f.Add(kind, authParamsFor(kind, nil).Encode(), "")
		f.Add(kind, authParamsFor(kind, url.Values{"code_challenge": {testChallenge}, "code_challenge_method": {"S256"}}).Encode(), "action=allow&user=1")
	}
	f.Add(Kakao, "client_id=test-client-id&redirect_uri=http://a%00b&response_type=code", "action=cancel")
	f.Add(Google, "client_id=test-client-id&redirect_uri=http://127.0.0.1/cb&response_type=code&scope=openid;x", "")
	f.Fuzz(func(t *testing.T, kind, query, body string) {
		fk, ok := fakes[kind]
		if !ok {
			return
		}
		method := http.MethodGet
		if body != "" {
			method = http.MethodPost
		}
		req := httptest.NewRequest(method, "/_fake/"+kind+fk.authPath(), strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		fk.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("got status %d, want < 500", rec.Code)
		}
		if loc := rec.Header().Get("Location"); loc != "" {
			want, err1 := url.Parse(req.Form.Get("redirect_uri"))
			got, err2 := url.Parse(loc)
			if err1 != nil || err2 != nil || got.Scheme != want.Scheme || got.Host != want.Host || got.Path != want.Path {
				t.Fatalf("redirected to %q, want to redirect_uri %q", loc, req.Form.Get("redirect_uri"))
			}
		}
	})
}

// FuzzToken feeds the token and userinfo endpoints arbitrary bodies and
// headers: no 5xx, and every answer of Google and Kakao is JSON.
func FuzzToken(f *testing.F) {
	fakes := fuzzFakes(f)
	for _, kind := range []string{Google, Naver, Kakao} {
		f.Add(kind, "application/x-www-form-urlencoded", googleExchangeForm("4/0Ax").Encode(), "Bearer x")
		f.Add(kind, "application/json", `{"grant_type":"refresh_token"}`, "Basic dGVzdDp0ZXN0")
	}
	f.Add(Kakao, "application/x-www-form-urlencoded; charset=utf-8", "grant_type=refresh_token&client_id=test-client-id&refresh_token=%ZZ", "bearer  ")
	f.Fuzz(func(t *testing.T, kind, contentType, body, auth string) {
		fk, ok := fakes[kind]
		if !ok {
			return
		}
		e := fk.Endpoints()
		for _, target := range []string{e.TokenURL, e.UserinfoURL, e.RevokeURL} {
			u, _ := url.Parse(target)
			req := httptest.NewRequest(http.MethodPost, u.Path, strings.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("Authorization", auth)
			rec := httptest.NewRecorder()
			fk.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s: got status %d, want < 500", u.Path, rec.Code)
			}
			if kind != Naver && rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s: got non-JSON body %q", u.Path, rec.Body)
			}
		}
	})
}
