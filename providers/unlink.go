package providers

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// Kakao's unlink callback: when a person disconnects the app in their Kakao
// account ("연결 끊기"), deletes the account, or Kakao's support unlinks
// them, Kakao calls the URL registered in the console, by GET or POST, with
// "Authorization: KakaoAK {Admin key}" and app_id, user_id and
// referrer_type. Kakao expects 200 whenever the request was understood,
// even for a user the service does not know.

var (
	// ErrUnlinkUnauthorized means the Authorization header is missing or
	// does not carry the Admin key (401), or no Admin key is configured.
	ErrUnlinkUnauthorized = errors.New("unlink callback: wrong or missing admin key")
	// ErrBadUnlink means the callback's parameters are malformed (400).
	ErrBadUnlink = errors.New("unlink callback: malformed")
)

// Unlink is a verified unlink callback.
type Unlink struct {
	// AppID is the Kakao app's ID, as sent; digits only.
	AppID string
	// Subject is the user's Kakao ID, the same decimal int64 as
	// Identity.Subject.
	Subject string
	// ReferrerType says why: ACCOUNT_DELETE, FORCED_ACCOUNT_DELETE,
	// UNLINK_FROM_APPS, UNLINK_FROM_ADMIN, INCOMPLETE_SIGN_UP, or a type
	// Kakao adds later (accepted: the user is gone either way).
	ReferrerType string
}

// SupportsUnlink reports whether the provider receives Kakao's unlink
// callback: Kakao with an Admin key.
func (p *Provider) SupportsUnlink() bool { return p.spec.name == "kakao" && p.opts.AdminKey != "" }

// VerifyUnlink checks an unlink callback: authorization is the request's
// Authorization header, form its query and body parameters. The key is
// compared in constant time (over hashes, so not even its length shows).
// ErrUnlinkUnauthorized for a wrong key, ErrBadUnlink for bad parameters.
func (p *Provider) VerifyUnlink(authorization string, form url.Values) (Unlink, error) {
	if !p.SupportsUnlink() {
		return Unlink{}, ErrUnlinkUnauthorized
	}
	return parseUnlink(p.opts.AdminKey, authorization, form)
}

// parseUnlink is VerifyUnlink without the provider (fuzzed).
func parseUnlink(adminKey, authorization string, form url.Values) (Unlink, error) {
	scheme, key, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "KakaoAK") || adminKey == "" {
		return Unlink{}, ErrUnlinkUnauthorized
	}
	got, want := sha256.Sum256([]byte(strings.TrimSpace(key))), sha256.Sum256([]byte(adminKey))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return Unlink{}, ErrUnlinkUnauthorized
	}
	one := func(name string) (string, bool) {
		v := form[name]
		if len(v) != 1 || v[0] == "" || len(v[0]) > 64 {
			return "", false
		}
		return v[0], true
	}
	appID, ok1 := one("app_id")
	userID, ok2 := one("user_id")
	ref, ok3 := one("referrer_type")
	if !ok1 || !ok2 || !ok3 {
		return Unlink{}, ErrBadUnlink
	}
	if !allDigits(appID) {
		return Unlink{}, ErrBadUnlink
	}
	// The same rule as the profile's id: a positive int64, in its
	// canonical decimal form, so it names exactly one Identity.Subject.
	n, err := strconv.ParseInt(userID, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != userID {
		return Unlink{}, ErrBadUnlink
	}
	for i := 0; i < len(ref); i++ {
		if c := ref[i]; (c < 'A' || c > 'Z') && c != '_' {
			return Unlink{}, ErrBadUnlink
		}
	}
	return Unlink{AppID: appID, Subject: userID, ReferrerType: ref}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
