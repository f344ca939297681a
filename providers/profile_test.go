package providers

import (
	"testing"
)

func TestProfileMappers(t *testing.T) {
	type mapper func([]byte) (Identity, error)
	tests := []struct {
		file    string
		mapper  mapper
		want    Identity
		wantErr bool
	}{
		// Naver: subject response.id, nickname else name, never verified here.
		{file: "naver_profile_full.json", mapper: naverProfile, want: Identity{
			Subject: "32742776-Jf8sGsuF3gd5bRt0_t6JrXcl-QzwD7b1ZuiuAIkIpQ",
			Email:   "gildong@naver.com", Name: "길동이",
			Picture: "https://ssl.pstatic.net/static/pwe/address/img_profile.png",
		}},
		{file: "naver_profile_name_only.json", mapper: naverProfile, want: Identity{
			Subject: "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdE", Name: "김철수",
		}},
		{file: "naver_profile_id_only.json", mapper: naverProfile, want: Identity{
			Subject: "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdE",
		}},
		{file: "naver_profile_no_id.json", mapper: naverProfile, wantErr: true},
		{file: "naver_profile_error_024.json", mapper: naverProfile, wantErr: true},
		{file: "kakao_user_full.json", mapper: naverProfile, wantErr: true}, // no resultcode

		// Kakao: int64 id in decimal, kakao_account first, properties as fallback.
		{file: "kakao_user_full.json", mapper: kakaoProfile, want: Identity{
			Subject: "3456789012", Email: "ryan@kakao.com", EmailVerified: true, Name: "라이언",
			Picture: "http://k.kakaocdn.net/dn/abc/img_640x640.jpg",
		}},
		{file: "kakao_user_no_account.json", mapper: kakaoProfile, want: Identity{
			Subject: "1234567890", Name: "어피치",
			Picture: "http://k.kakaocdn.net/dn/apeach/img_640x640.jpg",
		}},
		{file: "kakao_user_no_email.json", mapper: kakaoProfile, want: Identity{
			Subject: "2233445566", Name: "무지",
		}},
		{file: "kakao_user_email_invalid.json", mapper: kakaoProfile, want: Identity{
			Subject: "5566778899", Email: "con@example.com", EmailVerified: false, Name: "콘",
		}},
		{file: "kakao_user_email_unverified.json", mapper: kakaoProfile, want: Identity{
			Subject: "6677889900", Email: "tube@example.com", EmailVerified: false,
		}},
		{file: "kakao_user_id_2p53plus1.json", mapper: kakaoProfile, want: Identity{
			Subject: "9007199254740993", Name: "프로도",
		}},
		{file: "kakao_user_id_maxint64.json", mapper: kakaoProfile, want: Identity{
			Subject: "9223372036854775807", Name: "네오",
		}},
		{file: "kakao_user_id_overflow.json", mapper: kakaoProfile, wantErr: true},
		{file: "kakao_user_id_float.json", mapper: kakaoProfile, wantErr: true},
		{file: "kakao_user_error_401.json", mapper: kakaoProfile, wantErr: true},

		// Google: the id_token claims and userinfo share one shape.
		{file: "google_userinfo.json", mapper: googleProfile, want: Identity{
			Subject: "110169484474386276334", Email: "gildong.hong@gmail.com", EmailVerified: true,
			Name: "홍길동", Picture: "https://lh3.googleusercontent.com/a/ACg8ocJ=s96-c",
		}},
		{file: "google_claims_string_verified.json", mapper: googleProfile, want: Identity{
			Subject: "10769150350006150715113082367", Email: "jsmith@example.com", EmailVerified: true,
		}},
		{file: "google_claims_unverified.json", mapper: googleProfile, want: Identity{
			Subject: "104239847298347298342", Email: "x@example.com", Name: "Jane Doe",
		}},
		{file: "naver_profile_full.json", mapper: googleProfile, wantErr: true}, // no sub
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := tt.mapper(golden(t, tt.file))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want %+v", err, tt.want)
			}
			if got != tt.want {
				t.Errorf("got %+v,\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestKakaoClaims(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    Identity
		wantErr bool
	}{
		{"full", `{"iss":"https://kauth.kakao.com","sub":"9223372036854775807","nickname":"라이언","picture":"http://k/p.jpg","email":"ryan@kakao.com"}`,
			Identity{Subject: "9223372036854775807", Name: "라이언", Picture: "http://k/p.jpg", Email: "ryan@kakao.com"}, false},
		{"sub only", `{"sub":"123"}`, Identity{Subject: "123"}, false},
		{"email_verified ignored", `{"sub":"1","email":"a@b.c","email_verified":true}`, Identity{Subject: "1", Email: "a@b.c"}, false},
		{"no sub", `{"nickname":"x"}`, Identity{}, true},
		{"not json", `nope`, Identity{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kakaoClaims([]byte(tt.payload))
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLooseBool(t *testing.T) {
	tests := []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{`true`, true, false},
		{`false`, false, false},
		{`"true"`, true, false},
		{`"false"`, false, false},
		{`null`, false, false},
		{`"yes"`, false, true},
		{`1`, false, true},
		{`{}`, false, true},
	}
	for _, tt := range tests {
		var b looseBool
		err := b.UnmarshalJSON([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: got error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if bool(b) != tt.want {
			t.Errorf("%s: got %v, want %v", tt.in, b, tt.want)
		}
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name   string
		id, ui Identity
		want   Identity
	}{
		{"fills missing email with its flag",
			Identity{Subject: "1", Name: "n"}, Identity{Subject: "1", Email: "a@x", EmailVerified: true},
			Identity{Subject: "1", Name: "n", Email: "a@x", EmailVerified: true}},
		{"same address: userinfo may vouch",
			Identity{Subject: "1", Email: "A@x"}, Identity{Subject: "1", Email: "a@x", EmailVerified: true},
			Identity{Subject: "1", Email: "A@x", EmailVerified: true}},
		{"other address: id_token wins, unverified",
			Identity{Subject: "1", Email: "a@x"}, Identity{Subject: "1", Email: "b@x", EmailVerified: true, Name: "n", Picture: "p"},
			Identity{Subject: "1", Email: "a@x", Name: "n", Picture: "p"}},
		{"id_token name kept",
			Identity{Subject: "1", Name: "토큰"}, Identity{Subject: "1", Name: "유저인포"},
			Identity{Subject: "1", Name: "토큰"}},
	}
	for _, tt := range tests {
		if got := merge(tt.id, tt.ui); got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestValidSubject(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"110169484474386276334", true},
		{"32742776-Jf8sGsuF3gd5bRt0_t6JrXcl-QzwD7b1ZuiuAIkIpQ", true},
		{"", false},
		{"a b", false},
		{"a\nb", false},
		{"홍길동", false},
		{string(make([]byte, 256)), false},
	}
	for _, tt := range tests {
		if got := validSubject(tt.in); got != tt.want {
			t.Errorf("validSubject(%q): got %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		in      string
		secrets []string
		want    string
	}{
		{"authorization code not found for code=abc123", []string{"abc123"}, "authorization code not found for code=[redacted]"},
		{"line\r\nbreak\x00", nil, "linebreak"},
		{"한글 설명", nil, "한글 설명"},
		{string(make([]rune, 0)), []string{""}, ""},
	}
	for _, tt := range tests {
		if got := clean(tt.in, tt.secrets...); got != tt.want {
			t.Errorf("clean(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
	long := clean(string(make([]byte, 500)) + "x")
	if got := len([]rune(clean(stringOf('가', 500)))); got != 121 {
		t.Errorf("clean of 500 runes: got %d runes, want 121", got)
	}
	if long != "x" {
		t.Errorf("clean of NULs and x: got %q, want %q", long, "x")
	}
}

func stringOf(r rune, n int) string {
	rs := make([]rune, n)
	for i := range rs {
		rs[i] = r
	}
	return string(rs)
}
