package providers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// addGolden seeds f with every testdata file whose name starts with prefix.
func addGolden(f *testing.F, prefix string) {
	files, err := filepath.Glob(filepath.Join("testdata", prefix+"*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", prefix, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzNaverProfile(f *testing.F) {
	addGolden(f, "naver_profile")
	f.Add([]byte(`{"resultcode":"00","response":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := naverProfile(body)
		if err != nil {
			return
		}
		if id.Subject == "" || id.EmailVerified {
			t.Errorf("got %+v from %q, want a subject and no verified flag", id, body)
		}
	})
}

func FuzzKakaoProfile(f *testing.F) {
	addGolden(f, "kakao_user")
	f.Add([]byte(`{"id":"12"}`))
	f.Add([]byte(`{"id":-5}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := kakaoProfile(body)
		if err != nil {
			return
		}
		n, perr := strconv.ParseInt(id.Subject, 10, 64)
		if perr != nil || n <= 0 || strconv.FormatInt(n, 10) != id.Subject {
			t.Errorf("got subject %q from %q, want a canonical positive int64", id.Subject, body)
		}
		if id.EmailVerified && id.Email == "" {
			t.Errorf("got verified without e-mail from %q", body)
		}
	})
}

func FuzzGoogleProfile(f *testing.F) {
	addGolden(f, "google_")
	f.Add([]byte(`{"sub":"1","email_verified":"false"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := googleProfile(body)
		if err != nil {
			return
		}
		if id.Subject == "" {
			t.Errorf("got empty subject from %q", body)
		}
	})
}

// FuzzExchangeCode feeds callback codes (client input) to Exchange against a
// provider that echoes the code in its error, as Kakao does. It must never
// panic, always wrap a sentinel, and never repeat the code.
func FuzzExchangeCode(f *testing.F) {
	s := newServer(f)
	s.handle("/token", func(w http.ResponseWriter, r *http.Request) {
		code := r.PostFormValue("code")
		if code == "good-code" {
			replyJSON(200, map[string]any{"access_token": "at", "token_type": "bearer", "expires_in": 60})(w, r)
			return
		}
		replyJSON(400, map[string]any{"error": "invalid_grant", "error_code": "KOE320",
			"error_description": "authorization code not found for code=" + code})(w, r)
	})
	s.handle("/userinfo", reply(200, []byte(`{"id":42}`)))
	p, err := New(Options{Name: "kakao", ClientID: testClientID, RedirectURL: testRedirect + "kakao", Endpoints: s.endpoints()})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"good-code", "SplxlOBeZQQYbYS6WxSbIA", "", "a\r\nb", "코드", strings.Repeat("z", maxCodeLen+1), "%00&code=x"} {
		f.Add(seed)
	}
	a := p.NewAuthRequest()
	f.Fuzz(func(t *testing.T, code string) {
		id, _, err := p.Exchange(context.Background(), code, a)
		if err == nil {
			if code != "good-code" || id.Subject != "42" {
				t.Errorf("code %q: got %+v and no error", code, id)
			}
			return
		}
		if !errors.Is(err, ErrCodeRejected) && !errors.Is(err, ErrProvider) {
			t.Errorf("code %q: got error %v, want a sentinel", code, err)
		}
		if len(code) >= 8 && utf8.ValidString(code) && strings.Contains(err.Error(), code) {
			t.Errorf("code %q: error %q repeats it", code, err)
		}
	})
}

func FuzzLooseBool(f *testing.F) {
	for _, s := range []string{`true`, `"false"`, `null`, `"1"`, `0`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b looseBool
		if err := b.UnmarshalJSON(data); err != nil {
			return
		}
		// Whatever it accepted must be a JSON bool, a bool string or null.
		var v any
		if json.Unmarshal(data, &v) != nil {
			t.Errorf("accepted invalid JSON %q", data)
		}
	})
}
