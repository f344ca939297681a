package providers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

var epoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// TestTokenReplies runs recorded token-endpoint replies through Exchange and
// Refresh: expiry on our clock (Naver's string expires_in included), kept
// refresh tokens, and the error mapping.
func TestTokenReplies(t *testing.T) {
	const code = "SECRETCODE123"
	const oldRefresh = "old-refresh-token-777"
	tests := []struct {
		name     string
		provider string
		refresh  bool
		file     string
		status   int
		userinfo string // golden userinfo for Exchange

		wantErr     error
		wantIn      string // substring of the error
		wantAccess  string
		wantRefresh string
		wantIDToken bool
		wantExpiry  time.Duration // after epoch; 0: zero time
	}{
		{name: "naver string expires_in", provider: "naver", file: "naver_token.json", status: 200, userinfo: "naver_profile_full.json",
			wantAccess:  "AAAAQosjWDJieBiQZc3to9YQp6HDLvrmyKC+6+iZ3gq7qrkqf50ljZC+Lgoqrg",
			wantRefresh: "c8ceMEJisO4Se7uGisHoX0f5JEii7JnipglQipkOn5Zp3tyP7dHQoP0zNKHUq2gY", wantExpiry: 3600 * time.Second},
		{name: "naver 200 with error on exchange", provider: "naver", file: "naver_token_error_200.json", status: 200,
			wantErr: ErrCodeRejected, wantIn: "invalid_request (no valid data in session)"},
		{name: "naver 200 with error on refresh", provider: "naver", refresh: true, file: "naver_token_error_200.json", status: 200,
			wantErr: ErrInvalidGrant},
		{name: "naver bad client", provider: "naver", file: "naver_token_error_client.json", status: 200,
			wantErr: ErrProvider, wantIn: "invalid_client"},
		{name: "naver wrong secret is not a refused code", provider: "naver", file: "naver_token_error_bad_secret.json", status: 200,
			wantErr: ErrProvider, wantIn: "client secret pair"},
		{name: "naver refresh keeps refresh token", provider: "naver", refresh: true, file: "naver_refresh.json", status: 200,
			wantAccess:  "AAAAQjbRkysCNmMdQ7kmowPrjyRNIRYKG2iGHhbGawP0xfuYwjrE2WTI3p44SNepkFXME",
			wantRefresh: oldRefresh, wantExpiry: 3600 * time.Second},
		{name: "kakao exchange", provider: "kakao", file: "kakao_token.json", status: 200, userinfo: "kakao_user_full.json",
			wantAccess: "kakao-test-access-token-0123456789", wantRefresh: "kakao-test-refresh-token-0123456789",
			wantExpiry: 21599 * time.Second},
		{name: "kakao KOE320", provider: "kakao", file: "kakao_token_error_KOE320.json", status: 400,
			wantErr: ErrCodeRejected, wantIn: "KOE320"},
		{name: "kakao KOE322 on refresh", provider: "kakao", refresh: true, file: "kakao_token_error_KOE322.json", status: 400,
			wantErr: ErrInvalidGrant, wantIn: "KOE322"},
		{name: "kakao refresh without rotation", provider: "kakao", refresh: true, file: "kakao_refresh.json", status: 200,
			wantAccess: "kakao-new-access-token", wantRefresh: oldRefresh, wantExpiry: 43199 * time.Second},
		{name: "kakao refresh with rotation", provider: "kakao", refresh: true, file: "kakao_token.json", status: 200,
			wantAccess: "kakao-test-access-token-0123456789", wantRefresh: "kakao-test-refresh-token-0123456789",
			wantExpiry: 21599 * time.Second},
		{name: "google refresh", provider: "google", refresh: true, file: "google_token.json", status: 200,
			wantAccess: "ya29.a0AfB_byC-test-access-token", wantRefresh: "1//0g-test-refresh-token",
			wantIDToken: true, wantExpiry: 3599 * time.Second},
		{name: "google invalid_grant on exchange", provider: "google", file: "google_token_invalid_grant.json", status: 400,
			wantErr: ErrCodeRejected, wantIn: "invalid_grant"},
		{name: "google invalid_grant on refresh", provider: "google", refresh: true, file: "google_token_invalid_grant.json", status: 400,
			wantErr: ErrInvalidGrant},
		{name: "missing access_token", provider: "kakao", file: "token_missing_access_token.json", status: 200,
			wantErr: ErrProvider},
		{name: "html 502", provider: "naver", file: "html_502.html", status: 502,
			wantErr: ErrProvider, wantIn: "status 502"},
		{name: "html 200", provider: "kakao", file: "html_502.html", status: 200,
			wantErr: ErrProvider, wantIn: "invalid token response"},
		{name: "server_error 500", provider: "google", refresh: true, file: "naver_token_error_client.json", status: 500,
			wantErr: ErrProvider},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			body := golden(t, tt.file)
			s.handle("/token", reply(tt.status, body))
			if tt.userinfo != "" {
				s.handle("/userinfo", reply(200, golden(t, tt.userinfo)))
			}
			clock := &fixedClock{t: epoch}
			p := newProvider(t, Options{Name: tt.provider, Endpoints: s.endpoints(), Now: clock.Now})

			var tok Tokens
			var err error
			if tt.refresh {
				tok, err = p.Refresh(context.Background(), oldRefresh)
			} else {
				a := p.NewAuthRequest()
				_, tok, err = p.Exchange(context.Background(), code, a)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got error %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantIn) {
					t.Errorf("got error %q, want it to mention %q", err, tt.wantIn)
				}
				for _, secret := range []string{code, oldRefresh, testSecret, "<html", "ya29", "kakao-test"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("got error %q, which contains %q", err, secret)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if tok.AccessToken != tt.wantAccess {
				t.Errorf("got access token %q, want %q", tok.AccessToken, tt.wantAccess)
			}
			if tok.RefreshToken != tt.wantRefresh {
				t.Errorf("got refresh token %q, want %q", tok.RefreshToken, tt.wantRefresh)
			}
			if got := tok.IDToken != ""; got != tt.wantIDToken {
				t.Errorf("got id_token %q, want one: %v", tok.IDToken, tt.wantIDToken)
			}
			if want := epoch.Add(tt.wantExpiry); !tok.Expiry.Equal(want) {
				t.Errorf("got expiry %v, want %v", tok.Expiry, want)
			}
		})
	}
}

// TestNaverExpiryRealClock checks the string expires_in against the real
// clock, as production runs it.
func TestNaverExpiryRealClock(t *testing.T) {
	s := newServer(t)
	s.handle("/token", reply(200, golden(t, "naver_token.json")))
	s.handle("/userinfo", reply(200, golden(t, "naver_profile_full.json")))
	p := newProvider(t, Options{Name: "naver", Endpoints: s.endpoints()})
	before := time.Now()
	_, tok, err := p.Exchange(context.Background(), "code", p.NewAuthRequest())
	after := time.Now()
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	lo, hi := before.Add(3600*time.Second), after.Add(3600*time.Second)
	if tok.Expiry.Before(lo) || tok.Expiry.After(hi) {
		t.Errorf("got expiry %v, want within [%v, %v]", tok.Expiry, lo, hi)
	}
}

func TestTokenTypeMustBeBearer(t *testing.T) {
	s := newServer(t)
	s.handle("/token", replyJSON(200, map[string]any{"access_token": "a", "token_type": "mac", "expires_in": 60}))
	p := newProvider(t, Options{Name: "kakao", Endpoints: s.endpoints()})
	_, err := p.Refresh(context.Background(), "r")
	if !errors.Is(err, ErrProvider) {
		t.Fatalf("got error %v, want ErrProvider", err)
	}
}

func TestRefreshWithoutToken(t *testing.T) {
	s := newServer(t)
	p := newProvider(t, Options{Name: "kakao", Endpoints: s.endpoints()})
	if _, err := p.Refresh(context.Background(), ""); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("got error %v, want ErrInvalidGrant", err)
	}
	if n := len(s.requests("/token")); n != 0 {
		t.Errorf("got %d token requests, want 0", n)
	}
}
