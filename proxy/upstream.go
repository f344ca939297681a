package proxy

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/socialgate/socialgate/bearer"
	"github.com/socialgate/socialgate/session"
)

// upstreams routes requests to the configured apps.
type upstreams struct {
	s       *Server
	proxies map[*route]*httputil.ReverseProxy
}

// proxyState travels from serve to the ReverseProxy's Rewrite in the
// request's requestState.
type proxyState struct {
	rt      *route
	sess    *session.Session
	tok     *bearer.Token
	cleaned string
	fwd     forwardedInfo
	// w is the client's ResponseWriter as ReverseProxy sees it (stream.go).
	w proxyWriter
}

func newUpstreams(s *Server, transport http.RoundTripper) *upstreams {
	if transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 1024
		t.MaxIdleConnsPerHost = 256
		t.IdleConnTimeout = 90 * time.Second
		transport = t
	}
	u := &upstreams{s: s, proxies: map[*route]*httputil.ReverseProxy{}}
	// One pool for all routes: the buffers are all the same size.
	buffers := &bufferPool{}
	for _, rt := range s.policy.routes {
		if rt.URL == nil {
			continue // forward-auth only
		}
		um := s.metrics.upstream[rt.Name]
		u.proxies[rt] = &httputil.ReverseProxy{
			Rewrite:    u.rewrite,
			Transport:  transport,
			BufferPool: buffers,
			ErrorLog:   slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
			ModifyResponse: func(resp *http.Response) error {
				um.observe(resp.StatusCode)
				if rs := stateOf(resp.Request.Context()); rs != nil {
					rs.proxy.w.startStream(resp)
				}
				// The response already carries the gateway's request ID; an
				// upstream echoing it back would make a second value.
				delete(resp.Header, "X-Request-Id")
				return nil
			},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				if cbe := (*clientBodyError)(nil); errors.As(err, &cbe) {
					// The client's body was bad or cut short: its fault.
					s.writeError(w, r, errorf(http.StatusBadRequest, errBadRequest, cbe))
					return
				}
				um.observe(0)
				status := http.StatusBadGateway
				if errors.Is(err, context.DeadlineExceeded) {
					status = http.StatusGatewayTimeout
				}
				if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
					return // the client went away; nobody to answer
				}
				s.writeError(w, r, errorf(status, errUpstream, err))
			},
		}
	}
	return u
}

// bufferPool recycles the buffers ReverseProxy copies response bodies
// through. Without it every request allocates (and the GC clears) 32 KiB,
// which is most of what a proxied request allocates.
type bufferPool struct{ p sync.Pool }

// copyBufferSize is ReverseProxy's own default.
const copyBufferSize = 32 << 10

func (b *bufferPool) Get() []byte {
	if a, ok := b.p.Get().(*[copyBufferSize]byte); ok {
		return a[:]
	}
	return make([]byte, copyBufferSize)
}

// Put keeps the buffer as a pointer to its array: converting the slice
// back to that pointer costs nothing, where pooling a *[]byte would
// allocate the slice header on every request.
func (b *bufferPool) Put(buf []byte) {
	if cap(buf) != copyBufferSize {
		return
	}
	b.p.Put((*[copyBufferSize]byte)(buf[:copyBufferSize]))
}

// serve asks Server.decide about a request for an upstream and proxies it
// when the decision permits. A refusal is returned for the error adapter.
func (u *upstreams) serve(w http.ResponseWriter, r *http.Request, cleaned string) error {
	s := u.s
	fwd := readForwarded(r, s.opts.TrustedProxies)
	if fwd.BadHost {
		return errorf(http.StatusBadRequest, errBadHost, errors.New("invalid Host"))
	}
	d := s.decide(w, r, target{host: fwd.Host, path: cleaned})
	if !d.outcome.permits() {
		signIn, err := d.refusal(w, errorf(http.StatusNotFound, errNotFound, nil))
		if signIn {
			return s.unauthenticated(w, r, fwd)
		}
		return err
	}
	proxy := u.proxies[d.route]
	if proxy == nil {
		return errorf(http.StatusNotFound, errNotFound,
			errors.New("route "+d.route.Name+" has no url: it answers forward-auth only"))
	}
	rs := stateOf(r.Context())
	if rs == nil { // called without Server.ServeHTTP: tests, embedding
		rs = &requestState{}
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, rs))
	}
	r = s.replayed(w, r, d.who.sess, fwd)
	rs.proxy = proxyState{rt: d.route, sess: d.who.sess, tok: d.who.tok, cleaned: cleaned, fwd: fwd,
		w: proxyWriter{ResponseWriter: w, s: s, sess: d.who.sess}}
	proxy.ServeHTTP(&rs.proxy.w, r)
	return nil
}

// rewrite builds the upstream request: the cleaned path that was routed on,
// no client-sent identity, no gateway cookies, and our identity headers.
func (u *upstreams) rewrite(pr *httputil.ProxyRequest) {
	rs := stateOf(pr.In.Context())
	st := &rs.proxy
	out := pr.Out
	out.URL.Path, out.URL.RawPath = st.cleaned, ""
	pr.SetURL(st.rt.URL)
	if st.rt.PreserveHost {
		// The host the route was chosen by, never another: a trusted
		// X-Forwarded-Host picked the route, so it is also the Host.
		out.Host = st.fwd.Host
	}
	// Room for the headers set below: the clone ReverseProxy made is sized
	// for the client's headers, and growing it would rehash every one.
	h := make(http.Header, len(out.Header)+12)
	maps.Copy(h, out.Header)
	out.Header = h
	u.s.strip.strip(h)
	stripGatewayCookies(h, u.s.cookies.IsGatewayCookie)

	// One backing array for the values: one allocation, not five.
	vals := [...]string{"", st.fwd.Host, st.fwd.Proto, rs.id, ""}
	v := vals[:]
	if st.fwd.ClientIP.IsValid() {
		v[4] = addrString(pr.In.RemoteAddr, st.fwd.ClientIP)
	}
	// X-Forwarded-For: keep the chain only when it came from a trusted proxy.
	if prior := pr.In.Header["X-Forwarded-For"]; len(prior) > 0 && st.fwd.Trusted {
		if host, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
			v[0] = strings.Join(prior, ", ") + ", " + host
			h["X-Forwarded-For"] = v[0:1:1]
		}
	} else if v[4] != "" {
		h["X-Forwarded-For"] = v[4:5:5]
	}
	h["X-Forwarded-Host"] = v[1:2:2]
	h["X-Forwarded-Proto"] = v[2:3:3]
	h["X-Request-Id"] = v[3:4:4]
	// X-Real-IP: the client as the gateway believes it (a client's own
	// copy was stripped), for apps that read it instead of the list.
	if v[4] != "" {
		h["X-Real-Ip"] = v[4:5:5]
	}
	switch {
	case st.sess != nil:
		setIdentityHeaders(h, identityOf(st.sess), st.rt.enc, st.rt.PassAccessToken)
	case st.tok != nil:
		setIdentityHeaders(h, identityOfToken(st.tok), st.rt.enc, false)
	}
}

// unauthenticated sends a browser to the sign-in page with the full original
// URL, and gives API clients a 401 they can act on.
func (s *Server) unauthenticated(w http.ResponseWriter, r *http.Request, fwd forwardedInfo) error {
	if parked, err := s.park(w, r, fwd); parked {
		return err
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && wantsHTML(r) {
		w.Header().Set("Cache-Control", "no-store")
		redirectTo(w, s.signInURL(s.originalURL(fwd)), http.StatusFound)
		return nil
	}
	return s.unauthenticatedJSON(w, fwd)
}

// originalURL is the URL the browser asked for, absolute: on the scheme
// and host it used (as a trusted proxy in front reports them) when the
// redirect policy would send a browser there after login (a route's host,
// the gateway's, redirects.allowed_hosts), else the same path on the
// gateway's public origin. Any other host (an alias, an IP) would be
// refused at the callback, and the browser would land on "/" instead of
// its deep link.
func (s *Server) originalURL(fwd forwardedInfo) string {
	uri := fwd.URI
	if uri == "" || uri[0] != '/' {
		uri = "/"
	}
	if fwd.Host != "" {
		proto := fwd.Proto
		if s.public.Scheme == "https" {
			proto = "https"
		}
		abs := proto + "://" + fwd.Host + uri
		if fwd.Host == s.public.Host || s.policy.isRouteHost(fwd.Host) {
			return abs
		}
		if _, ok := s.redirects.validate(abs); ok {
			return abs
		}
	}
	return s.public.Scheme + "://" + s.public.Host + uri
}

// stripGatewayCookies removes the gateway's own cookies from the Cookie
// header, keeping every other cookie byte for byte.
func stripGatewayCookies(h http.Header, isGateway func(string) bool) {
	vals := h["Cookie"]
	if len(vals) == 0 {
		return
	}
	var kept []string
	changed := false
	for _, v := range vals {
		var b strings.Builder
		b.Grow(len(v)) // the kept cookies never need more: one allocation
		for part := range strings.SplitSeq(v, ";") {
			p := strings.TrimSpace(part)
			if p == "" {
				continue
			}
			name, _, _ := strings.Cut(p, "=")
			if isGateway(strings.TrimSpace(name)) {
				changed = true
				continue
			}
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(p)
		}
		if b.Len() > 0 {
			kept = append(kept, b.String())
		}
	}
	if !changed {
		return
	}
	if len(kept) == 0 {
		delete(h, "Cookie")
		return
	}
	h["Cookie"] = kept
}

// addrString spells a, reusing the peer's own spelling in remoteAddr when
// that is a (a direct client: the common case) instead of allocating.
func addrString(remoteAddr string, a netip.Addr) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		if p, err := netip.ParseAddr(host); err == nil && p == a {
			return host
		}
	}
	return a.String()
}
