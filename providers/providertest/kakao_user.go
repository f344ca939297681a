package providertest

import (
	"encoding/json"
	"time"
)

// kakaoID is the {"id":…} reply of logout and unlink.
type kakaoID struct {
	ID json.Number `json:"id"`
}

// kakaoNumber writes a Kakao id as a bare JSON number with its exact
// digits: ids above 2^53 do not survive a float64. New checked that every
// id is an int64.
func kakaoNumber(id string) json.Number { return json.Number(id) }

// kakaoMe is /v2/user/me. kakao_account, profile and email are each
// missing when the user withheld them.
type kakaoMe struct {
	ID           json.Number      `json:"id"`
	ConnectedAt  string           `json:"connected_at"`
	Properties   *kakaoProperties `json:"properties,omitempty"`
	KakaoAccount *kakaoAccount    `json:"kakao_account,omitempty"`
}

type kakaoProperties struct {
	Nickname       string `json:"nickname,omitempty"`
	ProfileImage   string `json:"profile_image,omitempty"`
	ThumbnailImage string `json:"thumbnail_image,omitempty"`
}

type kakaoAccount struct {
	ProfileNicknameNeedsAgreement bool          `json:"profile_nickname_needs_agreement"`
	ProfileImageNeedsAgreement    bool          `json:"profile_image_needs_agreement"`
	Profile                       *kakaoProfile `json:"profile,omitempty"`
	HasEmail                      bool          `json:"has_email"`
	EmailNeedsAgreement           bool          `json:"email_needs_agreement"`
	IsEmailValid                  *bool         `json:"is_email_valid,omitempty"`
	IsEmailVerified               *bool         `json:"is_email_verified,omitempty"`
	Email                         string        `json:"email,omitempty"`
}

type kakaoProfile struct {
	Nickname          string `json:"nickname"`
	ThumbnailImageURL string `json:"thumbnail_image_url"`
	ProfileImageURL   string `json:"profile_image_url"`
	IsDefaultImage    bool   `json:"is_default_image"`
	IsDefaultNickname bool   `json:"is_default_nickname"`
}

// kakaoOIDCInfo is /v1/oidc/userinfo.
type kakaoOIDCInfo struct {
	Sub           string `json:"sub"`
	Nickname      string `json:"nickname,omitempty"`
	Picture       string `json:"picture,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
}

// kakaoUser builds /v2/user/me for u. A user without e-mail is shown as
// having withheld it (has_email true, email_needs_agreement true, no
// email): the case clients most often get wrong. A user with NoProfile and
// no e-mail shared nothing, so kakao_account is missing altogether.
func (f *Fake) kakaoUser(u User) kakaoMe {
	me := kakaoMe{ID: kakaoNumber(u.ID), ConnectedAt: f.created.Format(time.RFC3339)}
	image, thumb, defaultImage := u.Picture, u.Picture, u.Picture == ""
	if defaultImage {
		image, thumb = kakaoDefaultImage, kakaoDefaultThumb
	}
	switch {
	case u.NoProfile && u.Nickname != "":
		me.Properties = &kakaoProperties{Nickname: u.Nickname}
	case !u.NoProfile:
		me.Properties = &kakaoProperties{Nickname: u.Nickname, ProfileImage: image, ThumbnailImage: thumb}
	}
	if u.NoProfile && u.Email == "" {
		return me
	}
	acct := &kakaoAccount{HasEmail: true}
	if u.NoProfile {
		acct.ProfileNicknameNeedsAgreement = true
		acct.ProfileImageNeedsAgreement = true
	} else {
		acct.Profile = &kakaoProfile{Nickname: u.Nickname, ThumbnailImageURL: thumb,
			ProfileImageURL: image, IsDefaultImage: defaultImage}
	}
	if u.Email == "" {
		acct.EmailNeedsAgreement = true
	} else {
		valid, verified := true, u.EmailVerified
		acct.IsEmailValid, acct.IsEmailVerified, acct.Email = &valid, &verified, u.Email
	}
	me.KakaoAccount = acct
	return me
}
