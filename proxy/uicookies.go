package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The pages keep two small cookies of their own, scoped to /oauth2/ so
// that no upstream ever receives them. Neither is a secret nor a grant:
//   - "_flash" carries a notice to the next page ("signed_out"), so the
//     sign-in page says "You have signed out" wherever sign-out led;
//   - "_rd" remembers the deep link of the last login this browser
//     started, so that a callback whose state is unknown or expired (the
//     provider page left open too long, a reused callback URL) offers to
//     start again for the same page. Whatever it holds goes through the
//     redirect policy again before it is used, like any rd.
const (
	flashSuffix = "_flash"
	rdSuffix    = "_rd"
	uiPath      = "/oauth2/"
	rdMaxAge    = time.Hour
	flashMaxAge = time.Minute
	// maxRDCookie keeps the cookie (with its name and attributes) well
	// under browsers' 4 KiB; a longer deep link is simply not remembered.
	maxRDCookie = 3000
)

// notices are the flash values the sign-in page knows.
var notices = []string{"signed_out"}

func (s *Server) uiCookieName(suffix string) string {
	base := strings.TrimPrefix(s.cookies.SessionName(), "__Host-")
	if s.public.Scheme == "https" {
		return "__Secure-" + base + suffix
	}
	return base + suffix
}

func (s *Server) setUICookie(w http.ResponseWriter, suffix, value string, maxAge time.Duration) {
	c := &http.Cookie{
		Name:     s.uiCookieName(suffix),
		Value:    value,
		Path:     uiPath,
		HttpOnly: true,
		Secure:   s.public.Scheme == "https",
		SameSite: http.SameSiteLaxMode,
		MaxAge:   int(maxAge / time.Second),
	}
	if maxAge < 0 {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// setFlash leaves a notice for the next gateway page.
func (s *Server) setFlash(w http.ResponseWriter, notice string) {
	s.setUICookie(w, flashSuffix, notice, flashMaxAge)
}

// takeFlash returns the pending notice, if any, and clears it.
func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(s.uiCookieName(flashSuffix))
	if err != nil {
		return ""
	}
	s.setUICookie(w, flashSuffix, "", -1)
	for _, n := range notices {
		if c.Value == n {
			return n
		}
	}
	return ""
}

// rememberRD keeps the deep link of a login being started.
func (s *Server) rememberRD(w http.ResponseWriter, rd string) {
	v := url.QueryEscape(rd)
	if len(v) > maxRDCookie {
		return
	}
	s.setUICookie(w, rdSuffix, v, rdMaxAge)
}

// rememberedRD is the deep link of the last login this browser started,
// checked again by the redirect policy; "" when there is none.
func (s *Server) rememberedRD(r *http.Request) string {
	c, err := r.Cookie(s.uiCookieName(rdSuffix))
	if err != nil {
		return ""
	}
	rd, err := url.QueryUnescape(c.Value)
	if err != nil || rd == "" {
		return ""
	}
	if v, ok := s.redirects.validate(rd); ok {
		return v
	}
	return ""
}
