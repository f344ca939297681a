package providertest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Kakao's default profile images, sent when the user has none.
const (
	kakaoDefaultImage = "http://img1.kakaocdn.net/thumb/R640x640.q70/?fname=http://t1.kakaocdn.net/account_images/default_profile.jpeg"
	kakaoDefaultThumb = "http://img1.kakaocdn.net/thumb/R110x110.q70/?fname=http://t1.kakaocdn.net/account_images/default_profile.jpeg"
)

// DefaultUsers returns a handful of users for kind, covering what clients
// get wrong: Hangul names, no e-mail, an unverified e-mail (Google, Kakao),
// Kakao ids above 2^53, and Kakao users who withheld their profile or
// everything (no kakao_account at all). It returns a new slice each call.
func DefaultUsers(kind string) []User {
	switch kind {
	case Google:
		return []User{
			{ID: "110169484474386276334", Email: "hong.gildong@gmail.com", EmailVerified: true,
				Name: "홍길동", Picture: "https://lh3.googleusercontent.com/a/fake-hong=s96-c",
				Label: "홍길동 (hong.gildong@gmail.com)"},
			{ID: "104753841234567890123", Email: "alice.kim@gmail.com", EmailVerified: true,
				Name: "Alice Kim", Picture: "https://lh3.googleusercontent.com/a/fake-alice=s96-c",
				Label: "Alice Kim (alice.kim@gmail.com)"},
			{ID: "117320987654321098765", Email: "chulsoo@example.com", EmailVerified: false,
				Name: "김철수", Label: "김철수 (unverified e-mail)"},
			{ID: "108642097531086420975", Name: "이영희", Label: "이영희 (no e-mail)"},
		}
	case GitHub:
		return githubDefaultUsers()
	case OIDC:
		// Keycloak's subjects are UUIDs.
		return []User{
			{ID: "2f0e9c64-3b1a-4c8e-9d52-7a1f6b3e8c01", Email: "hong.gildong@corp.example", EmailVerified: true,
				Name: "홍길동", Nickname: "gildong", Label: "홍길동 (hong.gildong@corp.example)"},
			{ID: "8b7d1e2a-5c4f-4a3b-b1e9-0d6c2f7a9e45", Email: "chulsoo@corp.example", EmailVerified: false,
				Name: "김철수", Nickname: "chulsoo", Label: "김철수 (unverified e-mail)"},
			{ID: "c3a9f1d8-7e62-4b05-a4d7-19e8b5c0f236", Name: "Alice Kim", Nickname: "alice",
				Label: "Alice Kim (no e-mail)"},
		}
	case Naver:
		return []User{
			{ID: "K6o2WIMbuK3qT0Zq8pXz1JdFHaRr7eDUj4n5LsQcBvY", Email: "gildong@naver.com",
				Name: "홍길동", Nickname: "길동이", Picture: "https://phinf.pstatic.net/contact/fake_hong.png",
				Label: "홍길동 (gildong@naver.com)"},
			{ID: "Zx9_yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE-dCbA9z8Y7", Name: "김철수", Nickname: "철수",
				Label: "김철수 (no e-mail)"},
			{ID: "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7bC9d", Email: "younghee@naver.com",
				Nickname: "영희", Label: "영희 (nickname only, no name)"},
		}
	case Kakao:
		return []User{
			{ID: "9007199254740993", Email: "gildong@kakao.com", EmailVerified: true,
				Nickname: "홍길동", Picture: "http://k.kakaocdn.net/dn/fake/hong_640x640.jpg",
				Label: "홍길동 (id above 2^53)"},
			{ID: "3456789012", Email: "chulsoo@daum.net", EmailVerified: false,
				Nickname: "김철수", Label: "김철수 (unverified e-mail)"},
			{ID: "9223372036854775807", Nickname: "이영희", Label: "이영희 (no e-mail, max int64 id)"},
			{ID: "4611686018427387905", Email: "minsu@kakao.com", EmailVerified: true,
				Nickname: "박민수", NoProfile: true, Label: "박민수 (no profile consent)"},
			{ID: "1234567890123", Nickname: "최지우", NoProfile: true,
				Label: "최지우 (no kakao_account)"},
		}
	}
	return nil
}

func validateUsers(kind string, users []User) error {
	seen := map[string]bool{}
	for i, u := range users {
		if u.ID == "" {
			return fmt.Errorf("providertest: users[%d]: empty ID", i)
		}
		if seen[u.ID] {
			return fmt.Errorf("providertest: users[%d]: duplicate ID %q", i, u.ID)
		}
		seen[u.ID] = true
		if kind == GitHub {
			if _, err := strconv.ParseInt(u.ID, 10, 64); err != nil || u.Nickname == "" {
				return fmt.Errorf("providertest: users[%d]: a github user needs a numeric id and a login (Nickname)", i)
			}
		}
		if kind == Kakao {
			if _, err := strconv.ParseInt(u.ID, 10, 64); err != nil {
				return fmt.Errorf("providertest: users[%d]: kakao id %q is not an int64", i, u.ID)
			}
		}
	}
	return nil
}

// label is what the consent page shows for u.
func (u User) label() string {
	if u.Label != "" {
		return u.Label
	}
	name := u.Nickname
	if name == "" {
		name = u.Name
	}
	if name == "" {
		name = u.ID
	}
	if u.Email == "" {
		return name + " (no e-mail)"
	}
	return name + " (" + u.Email + ")"
}

// splitName guesses Google's given_name and family_name: Latin names split
// at the last space, Hangul names after the first syllable (홍 / 길동).
func splitName(name string) (given, family string) {
	if i := strings.LastIndexByte(name, ' '); i > 0 {
		return name[:i], name[i+1:]
	}
	r := []rune(name)
	if len(r) >= 2 && unicode.Is(unicode.Hangul, r[0]) {
		return string(r[1:]), string(r[:1])
	}
	return name, ""
}
