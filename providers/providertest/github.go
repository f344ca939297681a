package providertest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// A fake GitHub (OAuth apps), github.com and api.github.com on one host
// as on GitHub Enterprise: /login/oauth/authorize, /login/oauth/access_token,
// /user and /user/emails. Its quirks, which a client must handle:
//   - the token endpoint answers application/x-www-form-urlencoded unless
//     the request says Accept: application/json, and reports errors (a bad
//     or reused code: bad_verification_code) with HTTP 200;
//   - the granted scope comes back comma-separated;
//   - /user's name and email are null when the user set no name or keeps
//     the e-mail private; the e-mail is then only in /user/emails, which
//     answers only with the user:email (or user) scope, with primary and
//     verified flags per address;
//   - API errors are {"message": …, "documentation_url": …}, and the API
//     refuses a request without User-Agent (403).
//
// Codes live 10 minutes and work once. PKCE S256 is checked when the
// authorization request carried a challenge (GitHub took PKCE in 2025).
// The token endpoint takes the client's credentials in the body or as HTTP
// Basic (GitHub documents the body; Basic unconfirmed, accepted).

// GitHub is the GitHub kind.
const GitHub = "github"

const githubDocs = "https://docs.github.com/rest"

func (f *Fake) serveGitHub(w http.ResponseWriter, r *http.Request, p string) {
	switch p {
	case "/login/oauth/authorize":
		f.serveAuthorize(w, r)
	case "/login/oauth/access_token":
		f.githubToken(w, r)
	case "/user":
		f.githubAPI(w, r, false)
	case "/user/emails":
		f.githubAPI(w, r, true)
	case "/applications/" + f.o.ClientID + "/grant":
		f.githubDeleteGrant(w, r)
	default:
		writeJSON(w, http.StatusNotFound, githubMessage{"Not Found", githubDocs, "404"})
	}
}

type githubMessage struct {
	Message string `json:"message"`
	Doc     string `json:"documentation_url"`
	Status  string `json:"status"`
}

// githubReply answers the token endpoint in the form the client asked for.
func githubReply(w http.ResponseWriter, r *http.Request, v url.Values) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		m := map[string]string{}
		for k := range v {
			m[k] = v.Get(k)
		}
		writeJSON(w, http.StatusOK, m)
		return
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(v.Encode()))
}

func githubError(code, desc string) url.Values {
	return url.Values{"error": {code}, "error_description": {desc},
		"error_uri": {"https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#" + strings.ReplaceAll(code, "_", "-")}}
}

func (f *Fake) githubToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusNotFound, githubMessage{"Not Found", githubDocs, "404"})
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if bid, bsecret, ok := r.BasicAuth(); ok {
		id, secret = bid, bsecret
	}
	if id != f.o.ClientID || secret != f.o.ClientSecret {
		githubReply(w, r, githubError("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect."))
		return
	}
	bad := githubError("bad_verification_code", "The code passed is incorrect or expired.")
	f.mu.Lock()
	c, ok := f.takeCodeLocked(r.PostForm.Get("code"), id)
	switch {
	case !ok:
		f.mu.Unlock()
		githubReply(w, r, bad)
		return
	case r.PostForm.Get("redirect_uri") != "" && r.PostForm.Get("redirect_uri") != c.redirectURI:
		f.mu.Unlock()
		githubReply(w, r, githubError("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application."))
		return
	case !verifyPKCE(c, r.PostForm.Get("code_verifier")):
		f.mu.Unlock()
		githubReply(w, r, bad)
		return
	}
	g := newGrant(c)
	access := f.mintAccessLocked(g)
	f.mu.Unlock()
	githubReply(w, r, url.Values{"access_token": {access}, "token_type": {"bearer"},
		"scope": {strings.Join(strings.Fields(c.scope), ",")}})
}

// githubUser is /user; name and email are null when unset or private.
type githubUser struct {
	Login     string  `json:"login"`
	ID        int64   `json:"id"`
	NodeID    string  `json:"node_id"`
	AvatarURL string  `json:"avatar_url"`
	HTMLURL   string  `json:"html_url"`
	Type      string  `json:"type"`
	Name      *string `json:"name"`
	Email     *string `json:"email"`
	Bio       *string `json:"bio"`
	Location  *string `json:"location"`
	CreatedAt string  `json:"created_at"`
}

type githubEmailEntry struct {
	Email      string  `json:"email"`
	Primary    bool    `json:"primary"`
	Verified   bool    `json:"verified"`
	Visibility *string `json:"visibility"`
}

func (f *Fake) githubAPI(w http.ResponseWriter, r *http.Request, emails bool) {
	if r.Header.Get("User-Agent") == "" {
		writeJSON(w, http.StatusForbidden, githubMessage{"Request forbidden by administrative rules. Please make sure your request has a User-Agent header", githubDocs, "403"})
		return
	}
	// GitHub takes "Bearer" and its older "token" scheme.
	tok := bearer(r)
	if scheme, v, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "token") {
		tok = strings.TrimSpace(v)
	}
	f.mu.Lock()
	g, st := f.lookupAccessLocked(tok)
	f.mu.Unlock()
	if st != tokenOK {
		writeJSON(w, http.StatusUnauthorized, githubMessage{"Bad credentials", githubDocs, "401"})
		return
	}
	u, _ := f.user(g.userID)
	w.Header().Set("X-OAuth-Scopes", strings.Join(strings.Fields(g.scope), ", "))
	if emails {
		w.Header().Set("X-Accepted-OAuth-Scopes", "user, user:email")
		if !hasScope(g.scope, "user", "user:email") {
			writeJSON(w, http.StatusNotFound, githubMessage{"Not Found", githubDocs, "404"})
			return
		}
		list := []githubEmailEntry{}
		if u.Email != "" {
			vis := "public"
			if u.EmailPrivate {
				vis = "private"
			}
			list = append(list, githubEmailEntry{Email: u.Email, Primary: true, Verified: u.EmailVerified, Visibility: &vis})
		}
		// Every account also has its noreply address, verified, never primary.
		list = append(list, githubEmailEntry{Email: u.ID + "+" + u.Nickname + "@users.noreply.github.com", Verified: true})
		writeJSON(w, http.StatusOK, list)
		return
	}
	id, _ := strconv.ParseInt(u.ID, 10, 64)
	gu := githubUser{Login: u.Nickname, ID: id, NodeID: "U_kgDO" + u.ID, AvatarURL: u.Picture,
		HTMLURL: "https://github.com/" + u.Nickname, Type: "User",
		CreatedAt: f.created.Add(-24 * time.Hour * 365).Format(time.RFC3339)}
	if u.Name != "" {
		gu.Name = &u.Name
	}
	if u.Email != "" && !u.EmailPrivate && u.EmailVerified {
		gu.Email = &u.Email // only a verified address can be public
	}
	writeJSON(w, http.StatusOK, gu)
}

// githubDefaultUsers: a public verified e-mail; a Hangul name with a
// private e-mail; no name and only an unverified (private) e-mail; no
// e-mail at all.
func githubDefaultUsers() []User {
	return []User{
		{ID: "583231", Nickname: "octocat", Name: "The Octocat", Email: "octocat@github.com", EmailVerified: true,
			Picture: "https://avatars.githubusercontent.com/u/583231?v=4", Label: "octocat (public e-mail)"},
		{ID: "90210417", Nickname: "gildong-hong", Name: "홍길동", Email: "gildong@example.kr", EmailVerified: true,
			EmailPrivate: true, Label: "홍길동 (private e-mail)"},
		{ID: "7654321", Nickname: "chulsoo", Email: "chulsoo@example.com", EmailPrivate: true,
			Label: "chulsoo (no name, unverified private e-mail)"},
		{ID: "1234", Nickname: "nomail", Label: "nomail (no name, no e-mail)"},
	}
}

// githubDeleteGrant is DELETE /applications/{client_id}/grant: the app
// authenticates with HTTP Basic, names the token in a JSON body, and the
// whole grant ends (204). An unknown token is 404, as GitHub answers.
func (f *Fake) githubDeleteGrant(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodDelete {
		writeJSON(w, http.StatusNotFound, githubMessage{"Not Found", githubDocs, "404"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok || id != f.o.ClientID || secret != f.o.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, githubMessage{"Requires authentication", githubDocs, "401"})
		return
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.AccessToken == "" {
		writeJSON(w, http.StatusUnprocessableEntity, githubMessage{"Invalid request.", githubDocs, "422"})
		return
	}
	f.mu.Lock()
	g, ok := f.grantOfLocked(body.AccessToken)
	if ok {
		f.revokeGrantLocked(g, body.AccessToken)
	}
	f.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, githubMessage{"Not Found", githubDocs, "404"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
