package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// kakao is plain OAuth 2.0 with /v2/user/me by default (works for every
// Kakao app), OpenID Connect with Options.OIDC. Kakao's id_token carries no
// email_verified, so when it has an e-mail the flag comes from /v2/user/me
// (same user, same address), and is false otherwise. /v2/user/me also
// supplies properties.nickname when the id_token has no nickname (profile
// consent withheld), so both modes name the user alike.
var kakao = spec{
	name:        "kakao",
	displayName: "Kakao",
	defaults: Endpoints{
		AuthURL:     "https://kauth.kakao.com/oauth/authorize",
		TokenURL:    "https://kauth.kakao.com/oauth/token",
		UserinfoURL: "https://kapi.kakao.com/v2/user/me",
		Issuer:      "https://kauth.kakao.com",
		JWKSURL:     "https://kauth.kakao.com/.well-known/jwks.json",
		RevokeURL:   "https://kapi.kakao.com/v1/user/logout",
		// Account logout in the browser (logout.go).
		EndSessionURL: "https://kauth.kakao.com/oauth/logout",
	},
	pkce:           true,
	numericSubject: true,
	optionalOIDC:   true,
	secretOptional: true,
	loginHint:      true,
	prompt:         passPrompt,
	// KOE320: code not found (reused or expired); KOE322: refresh token
	// expired or invalid. Both come with invalid_grant as well.
	rejected: func(e tokenErr) bool {
		return e.Code == "invalid_grant" || e.Detail == "KOE320" || e.Detail == "KOE322"
	},
	tokenErrorCode: kakaoErrorCode,
	apiError:       kakaoAPIError,
	profile:        kakaoProfile,
	claims:         kakaoClaims,
	needUserinfo:   func(id Identity) bool { return id.Email != "" || id.Name == "" },
	revoke:         kakaoRevoke,
}

type kakaoUser struct {
	// ID is an int64 that can exceed 2^53: never let it pass through float64.
	ID         json.Number `json:"id"`
	Properties *struct {
		Nickname     string `json:"nickname"`
		ProfileImage string `json:"profile_image"`
	} `json:"properties"`
	Account *struct {
		Profile *struct {
			Nickname        string `json:"nickname"`
			ProfileImageURL string `json:"profile_image_url"`
		} `json:"profile"`
		Email           string `json:"email"`
		IsEmailValid    *bool  `json:"is_email_valid"`
		IsEmailVerified *bool  `json:"is_email_verified"`
	} `json:"kakao_account"`
}

// kakaoProfile maps /v2/user/me. kakao_account, its profile and its email
// may each be missing when the user did not consent.
func kakaoProfile(body []byte) (Identity, error) {
	var u kakaoUser
	if err := json.Unmarshal(body, &u); err != nil {
		return Identity{}, fmt.Errorf("bad profile json: %w", err)
	}
	if u.ID == "" {
		return Identity{}, errors.New("profile has no id")
	}
	n, err := strconv.ParseInt(string(u.ID), 10, 64)
	if err != nil || n <= 0 {
		return Identity{}, errors.New("profile id is not a positive int64")
	}
	id := Identity{Subject: strconv.FormatInt(n, 10)}
	if a := u.Account; a != nil {
		if a.Profile != nil {
			id.Name = a.Profile.Nickname
			id.Picture = a.Profile.ProfileImageURL
		}
		id.Email = a.Email
		// An address Kakao marks invalid (expired, taken over) is never
		// verified, whatever is_email_verified says.
		id.EmailVerified = a.Email != "" &&
			a.IsEmailVerified != nil && *a.IsEmailVerified &&
			(a.IsEmailValid == nil || *a.IsEmailValid)
	}
	if pr := u.Properties; pr != nil {
		if id.Name == "" {
			id.Name = pr.Nickname
		}
		if id.Picture == "" {
			id.Picture = pr.ProfileImage
		}
	}
	return id, nil
}

// kakaoClaims maps the verified id_token. There is no email_verified claim.
func kakaoClaims(payload []byte) (Identity, error) {
	var c struct {
		Subject  string `json:"sub"`
		Nickname string `json:"nickname"`
		Picture  string `json:"picture"`
		Email    string `json:"email"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return Identity{}, fmt.Errorf("bad id_token claims: %w", err)
	}
	if c.Subject == "" {
		return Identity{}, errors.New("id_token has no sub")
	}
	return Identity{Subject: c.Subject, Email: c.Email, Name: c.Nickname, Picture: c.Picture}, nil
}

// kakaoErrorCode is the KOE code of a token-endpoint error body.
func kakaoErrorCode(body []byte) string {
	var e struct {
		Code string `json:"error_code"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Code
}

// kakaoAPIError describes {"msg":"…","code":-401} from kapi.kakao.com.
func kakaoAPIError(body []byte) string {
	var e struct {
		Msg  string `json:"msg"`
		Code *int   `json:"code"`
	}
	if json.Unmarshal(body, &e) != nil || e.Code == nil {
		return ""
	}
	return "code " + strconv.Itoa(*e.Code) + ": " + clean(e.Msg)
}

// kakaoRevoke logs the access token out (/v1/user/logout). A 401 means the
// token is already dead, which is what Revoke is for.
func kakaoRevoke(ctx context.Context, p *Provider, res *resolved, t Tokens) error {
	if t.AccessToken == "" {
		return nil
	}
	status, body, err := p.postForm(ctx, res.ep.RevokeURL, nil, t.AccessToken)
	if err != nil {
		return p.fail("revoke", ErrProvider, err)
	}
	switch status {
	case 200, 401:
		return nil
	}
	if d := kakaoAPIError(body); d != "" {
		return p.errorf("revoke", ErrProvider, "status %d: %s", status, d)
	}
	return p.errorf("revoke", ErrProvider, "status %d", status)
}

// AutoLogin reports whether the gateway should first try this Kakao
// instance silently (prompt=none) inside KakaoTalk's in-app browser, where
// the person is signed in to Kakao already: a returning user is signed in
// without a click, anyone else sees the sign-in page. Always false for the
// other kinds (New refuses the option there).
func (p *Provider) AutoLogin() bool { return p.opts.AutoLogin }
