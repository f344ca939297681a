package proxy

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/socialgate/socialgate/providers"
	"github.com/socialgate/socialgate/session"
)

// The signed-in person's own pages: /oauth2/ (who am I, linked accounts
// with connect and disconnect), /oauth2/connect/{provider} and
// /oauth2/disconnect/{provider} (accounts.enabled), and the sessions page
// (sessions.go).

// ownPage returns the browser's session for one of the person's own
// pages, or a redirect to the sign-in page (browsers) or a 401 (others)
// when there is none; nil, nil means the answer was written.
func (s *Server) ownPage(w http.ResponseWriter, r *http.Request, back string) (*session.Session, error) {
	sess, err := s.authenticate(w, r)
	if err != nil || sess != nil {
		return sess, err
	}
	if r.Method == http.MethodGet && wantsHTML(r) {
		redirectTo(w, s.signInURL(s.publicURL(back, nil)), http.StatusFound)
		return nil, nil
	}
	return nil, errorf(http.StatusUnauthorized, errUnauthenticated, nil)
}

// checkCSRF compares the form's csrf field with the session's.
func checkCSRF(r *http.Request, sess *session.Session, retry string) error {
	token := r.PostForm.Get("csrf")
	if sess.CSRF == "" || subtle.ConstantTimeCompare([]byte(token), []byte(sess.CSRF)) != 1 {
		he := errorf(http.StatusForbidden, errCSRF, errors.New("csrf token mismatch"))
		he.retry = retry
		return he
	}
	return nil
}

type linkedIdentity struct {
	Value         string // "kakao:123"
	Subject       string
	DisconnectURL string
	Current       bool // this session signed in with it
	Last          bool // the only one: no disconnect button
}

type providerRow struct {
	Name, Label string
	Linked      []linkedIdentity
	ConnectHref string // "" without accounts
}

type accountPage struct {
	Lang       lang
	Name       string
	Email      string
	User       string // X-Forwarded-User: the gateway user or provider:subject
	Provider   string
	Accounts   bool
	Providers  []providerRow
	CSRF       string
	SessionsN  int
	SignOutURL string
}

// accountPage shows who is signed in and, with accounts, every provider
// with its linked identities and a connect or disconnect button.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.ownPage(w, r, "/oauth2/")
	if sess == nil {
		return err
	}
	l := langFor(r)
	page := accountPage{Lang: l, Name: sess.Name, Email: sess.Email, User: identityOf(sess).User,
		Provider: sess.Provider, CSRF: sess.CSRF, SignOutURL: "/oauth2/sign_out"}
	if page.Name == "" {
		page.Name = sess.User()
	}
	ctx := r.Context()
	if own, err := s.sessions.OwnSessions(ctx, sess); err == nil {
		page.SessionsN = len(own)
	} else {
		return storeError(err)
	}
	if s.sessions.AccountsEnabled() && sess.Account != "" {
		acc, err := s.sessions.Account(ctx, sess.Account)
		if err != nil {
			return accountError(err)
		}
		page.Accounts = true
		for _, p := range s.order {
			row := providerRow{Name: p.Name(), Label: p.DisplayName(),
				ConnectHref: "/oauth2/connect/" + url.PathEscape(p.Name())}
			for _, ident := range acc.Identities {
				if sub, ok := strings.CutPrefix(ident, p.Name()+":"); ok {
					row.Linked = append(row.Linked, linkedIdentity{Value: ident, Subject: sub,
						DisconnectURL: "/oauth2/disconnect/" + url.PathEscape(p.Name()),
						Current:       ident == sess.User(), Last: len(acc.Identities) == 1})
				}
			}
			page.Providers = append(page.Providers, row)
		}
	}
	return s.pages.render(w, http.StatusOK, "account.html", page)
}

// connect starts a login with provider whose identity is then linked to
// the signed-in gateway user instead of starting a new session.
func (s *Server) connect(w http.ResponseWriter, r *http.Request) error {
	if !s.sessions.AccountsEnabled() {
		return errorf(http.StatusNotFound, errNotFound, errors.New("accounts are not enabled"))
	}
	name := r.PathValue("provider")
	p, ok := s.providers[name]
	if !ok {
		return errorf(http.StatusNotFound, errUnknownProvider, nil)
	}
	sess, err := s.ownPage(w, r, "/oauth2/connect/"+url.PathEscape(name))
	if sess == nil {
		return err
	}
	if sess.Account == "" {
		// A session from before accounts were turned on: sign in again.
		he := errorf(http.StatusConflict, errAccountMissing, errors.New("session has no gateway user"))
		he.retry = "/oauth2/sign_in?" + url.Values{"rd": {"/oauth2/"}}.Encode()
		return he
	}
	target := "/oauth2/"
	if rd := r.URL.Query().Get("rd"); rd != "" {
		target = s.safeRedirect(rd)
	}
	return s.beginLogin(w, r, p, target, sess.Account)
}

// finishConnect links the identity a connect login returned to the gateway
// user that started it, when this browser is still signed in as that
// user. An identity owned by another user is refused, never moved.
func (s *Server) finishConnect(w http.ResponseWriter, r *http.Request, st *session.LoginState, id providers.Identity) error {
	ctx := r.Context()
	sess, err := s.currentSession(r)
	if err != nil {
		return err
	}
	if sess == nil || sess.Account != st.Connect {
		he := errorf(http.StatusForbidden, errConnectSignedOut, errors.New("connect finished without the session that started it"))
		he.retry = "/oauth2/sign_in?" + url.Values{"rd": {"/oauth2/"}}.Encode()
		return he
	}
	ident := id.User()
	if _, err := s.sessions.LinkIdentity(ctx, st.Connect, ident); err != nil {
		s.metrics.providerEvents.WithLabelValues(id.Provider, "link_refused").Inc()
		if errors.Is(err, session.ErrIdentityTaken) {
			s.log.LogAttrs(ctx, slog.LevelWarn, "link refused: identity belongs to another user",
				slog.String("request_id", requestID(ctx)), slog.String("user", st.Connect), slog.String("identity", ident))
		}
		return accountError(err)
	}
	s.metrics.providerEvents.WithLabelValues(id.Provider, "linked").Inc()
	s.log.LogAttrs(ctx, slog.LevelInfo, "identity linked",
		slog.String("request_id", requestID(ctx)), slog.String("user", st.Connect), slog.String("identity", ident))
	redirectTo(w, st.Redirect, http.StatusFound)
	return nil
}

// disconnect unlinks one of the user's identities of provider (the form's
// identity, or the only one), never the last. Sessions that signed in with
// it end; when this one did, the browser is signed out.
func (s *Server) disconnect(w http.ResponseWriter, r *http.Request) error {
	if !s.sessions.AccountsEnabled() {
		return errorf(http.StatusNotFound, errNotFound, errors.New("accounts are not enabled"))
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return errorf(http.StatusBadRequest, errBadRequest, err)
	}
	sess, err := s.ownPage(w, r, "/oauth2/")
	if sess == nil {
		return err
	}
	if err := checkCSRF(r, sess, "/oauth2/"); err != nil {
		return err
	}
	ctx := r.Context()
	name := r.PathValue("provider")
	acc, err := s.sessions.Account(ctx, sess.Account)
	if err != nil {
		return accountError(err)
	}
	var ident string
	for _, v := range acc.Identities {
		if strings.HasPrefix(v, name+":") && (r.PostForm.Get("identity") == "" || r.PostForm.Get("identity") == v) {
			if ident != "" {
				return errorf(http.StatusBadRequest, errBadRequest, errors.New("several identities of the provider; name one"))
			}
			ident = v
		}
	}
	if ident == "" {
		he := errorf(http.StatusNotFound, errNotLinked, nil)
		he.retry = "/oauth2/"
		return he
	}
	if _, err := s.sessions.UnlinkIdentity(ctx, acc.ID, ident); err != nil {
		return accountError(err)
	}
	s.metrics.providerEvents.WithLabelValues(name, "unlinked_by_user").Inc()
	s.log.LogAttrs(ctx, slog.LevelInfo, "identity unlinked",
		slog.String("request_id", requestID(ctx)), slog.String("user", acc.ID), slog.String("identity", ident))
	if ident == sess.User() {
		s.cookies.ClearSession(w)
		redirectTo(w, "/oauth2/sign_in?"+url.Values{"rd": {"/oauth2/"}}.Encode(), http.StatusSeeOther)
		return nil
	}
	redirectTo(w, "/oauth2/", http.StatusSeeOther)
	return nil
}

// accountError maps the accounts API's refusals to pages.
func accountError(err error) error {
	var he *httpError
	switch {
	case errors.Is(err, session.ErrIdentityTaken):
		he = errorf(http.StatusConflict, errIdentityTaken, err)
	case errors.Is(err, session.ErrLastIdentity):
		he = errorf(http.StatusConflict, errLastIdentity, err)
	case errors.Is(err, session.ErrNoAccount):
		he = errorf(http.StatusConflict, errAccountMissing, err)
	default:
		return storeError(err)
	}
	he.retry = "/oauth2/"
	return he
}

// signInAccount is the gateway user of a new login, when accounts are on:
// found by the identity, joined by a verified e-mail (link_by_email), or
// new.
func (s *Server) signInAccount(ctx context.Context, id providers.Identity) (*session.Account, error) {
	if !s.sessions.AccountsEnabled() {
		return nil, nil
	}
	return s.sessions.SignInAccount(ctx, session.SignInLogin{
		Identity: id.User(), Email: id.Email, EmailVerified: id.EmailVerified,
	})
}

// keptIDToken is the id_token a new session keeps: only for id_token_hint
// at the provider's logout (keepsIDToken).
func keptIDToken(p Provider, tok providers.Tokens) string {
	if keepsIDToken(p) {
		return tok.IDToken
	}
	return ""
}

// accountSamplePages are the person's own pages with sample data, for
// samplePages (templates are tried at start and by check-config).
func accountSamplePages(l lang) map[string]any {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	return map[string]any{
		"account.html": accountPage{Lang: l, Name: "홍길동", Email: "gildong@example.com",
			User: "sg_AAAAAAAAAAAAAAAAAAAAAA", Provider: "kakao", Accounts: true, CSRF: "x", SessionsN: 2,
			SignOutURL: "/oauth2/sign_out", Providers: []providerRow{
				{Name: "kakao", Label: "Kakao", Linked: []linkedIdentity{{Value: "kakao:1", Subject: "1", Current: true,
					DisconnectURL: "/oauth2/disconnect/kakao"}}},
				{Name: "google", Label: "Google", ConnectHref: "/oauth2/connect/google"}}},
		"sessions.html": sessionsPage{Lang: l, CSRF: "x", Others: true, Sessions: []sessionRow{
			{ID: "a", Current: true, Created: now, LastSeen: now, IP: "203.0.113.7", Device: "Chrome · Windows", Provider: "kakao"},
			{ID: "b", Created: now, LastSeen: now, IP: "198.51.100.2", Device: "KakaoTalk · iOS", Provider: "google"}}},
		"signed_out.html": signedOutPage{Lang: l},
	}
}
