package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/markbates/goth"
	gothgithub "github.com/markbates/goth/providers/github"
)

// githubKind is GitHub through goth, with what goth leaves out: GitHub's
// /user names a public e-mail only, and goth takes the private one from
// /user/emails without saying whether it is verified. The profile step
// asks /user/emails itself (the user:email scope allows it) for the
// primary address and its verified flag, so allow.emails can trust it.
// GitHub takes PKCE S256 (since 2025); refresh tokens exist only for
// GitHub Apps with expiring tokens, and goth's GitHub provider cannot
// refresh, so sessions end at the session lifetime. Revocation is GitHub's
// own (goth has none): githubRevoke.
var githubKind = spec{
	name:           "github",
	displayName:    "GitHub",
	scopes:         []string{"read:user", "user:email"},
	pkce:           true,
	numericSubject: true,
	// GitHub answers a bad or reused code with HTTP 200 and
	// error=bad_verification_code.
	rejected: func(e tokenErr) bool {
		return e.Code == "bad_verification_code" || e.Code == "invalid_grant"
	},
	tolerateErr: gothgithub.ErrNoVerifiedGitHubPrimaryEmail,
	goth: &gothSpec{
		custom: true,
		new: func(a gothArgs) goth.Provider {
			profile := or(a.ep.UserinfoURL, gothgithub.ProfileURL)
			p := gothgithub.NewCustomisedURL(a.clientID, a.secret, a.callback,
				or(a.ep.AuthURL, gothgithub.AuthURL), or(a.ep.TokenURL, gothgithub.TokenURL),
				profile, githubEmailsURL(a.ep), a.scopes...)
			p.HTTPClient = a.client
			return p
		},
		profile: githubEmails,
	},
	revoke: githubRevoke,
}

// githubAPI is the REST API's base next to the profile URL:
// https://api.github.com, or GitHub Enterprise's https://host/api/v3.
func githubAPI(ep Endpoints) string {
	if ep.UserinfoURL == "" {
		return "https://api.github.com"
	}
	return strings.TrimSuffix(strings.TrimSuffix(ep.UserinfoURL, "/"), "/user")
}

// githubRevoke deletes the app's grant for the user (DELETE
// /applications/{client_id}/grant), which ends every token of the grant.
// GitHub authenticates the client with HTTP Basic here; a token already
// gone is 404 or 422, which is what revoking is for.
func githubRevoke(ctx context.Context, p *Provider, _ *resolved, t Tokens) error {
	if t.AccessToken == "" {
		return nil
	}
	body, err := json.Marshal(map[string]string{"access_token": t.AccessToken})
	if err != nil {
		return p.fail("revoke", ErrProvider, err)
	}
	u := githubAPI(p.opts.Endpoints) + "/applications/" + url.PathEscape(p.opts.ClientID) + "/grant"
	req, err := http.NewRequest(http.MethodDelete, u, bytes.NewReader(body))
	if err != nil {
		return p.fail("revoke", ErrProvider, err)
	}
	req.SetBasicAuth(p.opts.ClientID, p.opts.ClientSecret)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("Content-Type", "application/json")
	status, _, err := p.do(ctx, req)
	if err != nil {
		return p.fail("revoke", ErrProvider, err)
	}
	switch status {
	case http.StatusNoContent, http.StatusNotFound, http.StatusUnprocessableEntity:
		return nil
	}
	return p.errorf("revoke", ErrProvider, "status %d", status)
}

// githubEmailsURL is /user/emails next to the profile URL: on github.com
// and on GitHub Enterprise (/api/v3/user → /api/v3/user/emails) alike.
func githubEmailsURL(ep Endpoints) string {
	if ep.UserinfoURL == "" {
		return gothgithub.EmailURL
	}
	return strings.TrimSuffix(ep.UserinfoURL, "/") + "/emails"
}

// githubEmail is one entry of /user/emails.
type githubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// githubEmails reads /user/emails: the primary address when /user named
// none, and the verified flag of the address taken. Without the user:email
// scope GitHub refuses the call; the e-mail then stays unverified.
func githubEmails(ctx context.Context, p *Provider, a gothArgs, access string, id *Identity) error {
	req, err := http.NewRequest(http.MethodGet, githubEmailsURL(a.ep), nil)
	if err != nil {
		return p.fail("emails", ErrProvider, err)
	}
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Accept", "application/vnd.github+json")
	status, body, err := p.do(ctx, req)
	if err != nil {
		return p.fail("emails", ErrProvider, err)
	}
	if status != http.StatusOK {
		id.EmailVerified = false
		return nil
	}
	emails, err := parseGitHubEmails(body)
	if err != nil {
		return p.fail("emails", ErrProvider, err)
	}
	if id.Email == "" {
		for _, e := range emails {
			if e.Primary {
				id.Email = e.Email
			}
		}
	}
	id.EmailVerified = false
	for _, e := range emails {
		if e.Email != "" && strings.EqualFold(e.Email, id.Email) {
			id.EmailVerified = e.Verified
		}
	}
	return nil
}

// parseGitHubEmails reads /user/emails' list; entries may carry more
// fields (visibility) or nulls.
func parseGitHubEmails(body []byte) ([]githubEmail, error) {
	var list []githubEmail
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, err
	}
	return list, nil
}
