package proxy

import (
	"net/http"
	"net/url"
)

// errorPage is the data of error.html.
type errorPage struct {
	Lang   lang
	Status int
	// Key is the error key ("consent_denied", "state_invalid", …), for
	// templates that want their own wording for one case.
	Key            string
	Title, Message string
	RequestID      string
	// Retry is the sign-in page for the same deep link, when there is a
	// login to try again; "" otherwise.
	Retry string
	// Home is the start page.
	Home string
	// SwitchAccount signs out and comes back to the same page, offered
	// when the account is not allowed (403): another account may be.
	SwitchAccount string
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, he *httpError) {
	l := langFor(r)
	data := errorPage{
		Lang:      l,
		Status:    he.status,
		Key:       string(he.msg),
		Title:     errorTitle(l, he.msg),
		Message:   text(l, "err_"+string(he.msg)),
		RequestID: requestID(r.Context()),
		Retry:     he.retry,
		Home:      "/",
	}
	if he.msg == errForbidden {
		back := s.originalURL(readForwarded(r, s.opts.TrustedProxies))
		data.SwitchAccount = "/oauth2/sign_out?" + url.Values{"rd": {back}}.Encode()
	}
	if err := s.pages.render(w, he.status, "error.html", data); err != nil {
		http.Error(w, data.Message, he.status)
	}
}
