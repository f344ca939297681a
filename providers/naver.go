package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
)

// naver is plain OAuth 2.0 with three quirks: no scope parameter, state is
// sent again with the code exchange, and token errors come back with HTTP 200
// (x/oauth2 turns a 200 with an "error" field into a RetrieveError).
var naver = spec{
	name:        "naver",
	displayName: "Naver",
	defaults: Endpoints{
		AuthURL:     "https://nid.naver.com/oauth2.0/authorize",
		TokenURL:    "https://nid.naver.com/oauth2.0/token",
		UserinfoURL: "https://openapi.naver.com/v1/nid/me",
		RevokeURL:   "https://nid.naver.com/oauth2.0/revoke",
	},
	noScopes:        true,
	trustEmail:      true,
	stateInExchange: true,
	prompt:          naverPrompt,
	rejected:        naverRejected,
	apiError:        naverAPIError,
	profile:         naverProfile,
	revoke:          naverRevoke,
}

// naverBadClient is how Naver reports a wrong client secret: with the same
// invalid_request it uses for a reused code, so only the description tells
// a configuration error (502) from a refused code (retry).
const naverBadClient = "wrong client id / client secret pair"

// naverRejected: Naver answers a reused code or a dead token with
// invalid_request ("no valid data in session"), not invalid_grant.
func naverRejected(e tokenErr) bool {
	switch e.Code {
	case "invalid_grant":
		return true
	case "invalid_request":
		return e.Description != naverBadClient
	}
	return false
}

// naverPrompt maps OIDC prompt values to Naver's auth_type.
func naverPrompt(v string) (string, string) {
	switch v {
	case "consent":
		return "auth_type", "reprompt"
	case "login":
		return "auth_type", "reauthenticate"
	}
	return "", ""
}

type naverEnvelope struct {
	ResultCode string `json:"resultcode"`
	Message    string `json:"message"`
	Response   *struct {
		ID           string `json:"id"`
		Nickname     string `json:"nickname"`
		Name         string `json:"name"`
		Email        string `json:"email"`
		ProfileImage string `json:"profile_image"`
	} `json:"response"`
}

// naverProfile maps /v1/nid/me. Naver has no verified flag: EmailVerified
// stays false here and Options.TrustEmail decides later.
func naverProfile(body []byte) (Identity, error) {
	var e naverEnvelope
	if err := json.Unmarshal(body, &e); err != nil {
		return Identity{}, fmt.Errorf("bad profile json: %w", err)
	}
	if e.ResultCode != "00" {
		return Identity{}, fmt.Errorf("resultcode %q: %s", clean(e.ResultCode), clean(e.Message))
	}
	if e.Response == nil || e.Response.ID == "" {
		return Identity{}, errors.New("profile has no response.id")
	}
	r := e.Response
	name := r.Nickname
	if name == "" {
		name = r.Name
	}
	return Identity{
		Subject: r.ID,
		Email:   r.Email,
		Name:    name,
		Picture: r.ProfileImage,
	}, nil
}

// naverAPIError describes {"resultcode":"024","message":"Authentication failed"}.
func naverAPIError(body []byte) string {
	var e naverEnvelope
	if json.Unmarshal(body, &e) != nil || e.ResultCode == "" {
		return ""
	}
	return "resultcode " + clean(e.ResultCode) + ": " + clean(e.Message)
}

// naverRevoke deletes the access token (and with it the grant). Naver
// answers 200 with an empty body, also for an unknown token.
func naverRevoke(ctx context.Context, p *Provider, res *resolved, t Tokens) error {
	if t.AccessToken == "" {
		return nil
	}
	form := url.Values{
		"client_id":       {p.opts.ClientID},
		"client_secret":   {p.opts.ClientSecret},
		"token":           {t.AccessToken},
		"token_type_hint": {"access_token"},
	}
	status, body, err := p.postForm(ctx, res.ep.RevokeURL, form, "")
	if err != nil {
		return p.fail("revoke", ErrProvider, err)
	}
	if status != 200 {
		return p.errorf("revoke", ErrProvider, "status %d", status)
	}
	// Like the token endpoint, errors may come with HTTP 200.
	if code := oauthErrorCode(body); code != "" {
		return p.errorf("revoke", ErrProvider, "%s", clean(code))
	}
	return nil
}
