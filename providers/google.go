package providers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// google is OpenID Connect: the identity comes from the verified id_token,
// completed from userinfo when the token lacks e-mail or name.
var google = spec{
	name:        "google",
	displayName: "Google",
	defaults: Endpoints{
		AuthURL:     "https://accounts.google.com/o/oauth2/v2/auth",
		TokenURL:    "https://oauth2.googleapis.com/token",
		UserinfoURL: "https://openidconnect.googleapis.com/v1/userinfo",
		Issuer:      "https://accounts.google.com",
		JWKSURL:     "https://www.googleapis.com/oauth2/v3/certs",
		RevokeURL:   "https://oauth2.googleapis.com/revoke",
	},
	scopes:    []string{"openid", "email", "profile"},
	pkce:      true,
	oidc:      true,
	discovery: true,
	loginHint: true,
	// offline: a refresh token on first consent, so sessions can refresh.
	authParams: [][2]string{{"access_type", "offline"}},
	prompt:     passPrompt,
	rejected:   invalidGrant,
	profile:    googleProfile,
	claims:     googleProfile,
	needUserinfo: func(id Identity) bool {
		return id.Email == "" || id.Name == ""
	},
	// Revocation as RFC 7009, with the client's credentials in the body as
	// at Google's token endpoint (or as the issuer advertises): an issuer
	// set in place of Google's may require them (Google itself does not).
	revoke: revokeRFC7009,
}

func passPrompt(v string) (string, string) { return "prompt", v }

// googleClaims is the shape shared by Google's id_token and userinfo.
type googleClaims struct {
	Subject       string    `json:"sub"`
	Email         string    `json:"email"`
	EmailVerified looseBool `json:"email_verified"`
	Name          string    `json:"name"`
	Picture       string    `json:"picture"`
}

func googleProfile(body []byte) (Identity, error) {
	var c googleClaims
	if err := json.Unmarshal(body, &c); err != nil {
		return Identity{}, fmt.Errorf("bad profile json: %w", err)
	}
	if c.Subject == "" {
		return Identity{}, errors.New("profile has no sub")
	}
	return Identity{
		Subject:       c.Subject,
		Email:         c.Email,
		EmailVerified: bool(c.EmailVerified),
		Name:          c.Name,
		Picture:       c.Picture,
	}, nil
}

// looseBool reads a JSON boolean, or the strings "true"/"false" that older
// Google tokens carry for email_verified.
type looseBool bool

func (b *looseBool) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		*b = false
		return nil
	}
	var v bool
	if err := json.Unmarshal(data, &v); err == nil {
		*b = looseBool(v)
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return errors.New("email_verified is neither bool nor string")
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("email_verified is not a boolean string")
	}
	*b = looseBool(v)
	return nil
}

// oauthErrorCode is the RFC 6749 "error" field of a JSON body, or "".
func oauthErrorCode(body []byte) string {
	var e struct {
		Error any `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	s, _ := e.Error.(string)
	return s
}

// RefusesWebviews reports whether the provider refuses OAuth inside in-app
// browsers (webviews): Google answers 403 disallowed_useragent there, for
// the google kind and for an OpenID Connect instance whose issuer is
// Google's. The sign-in page then sends the person to the system browser
// for it instead of offering a link that fails.
func (p *Provider) RefusesWebviews() bool {
	if p.spec.name == "google" {
		return true
	}
	u, err := url.Parse(p.opts.Endpoints.Issuer)
	return err == nil && u.Hostname() == "accounts.google.com"
}
