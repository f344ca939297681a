package proxy

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/socialgate/socialgate/session"
)

// The http.Server's ReadTimeout and WriteTimeout are deadlines for a whole
// request and its whole response. They keep the gateway's own pages and
// slow clients bounded, but they would cut a server-sent event stream or a
// WebSocket that lives for hours. So a proxied response is looked at once
// its headers arrive from the upstream:
//
//   - a stream (text/event-stream, or a body of unknown length, the same
//     rule by which ReverseProxy flushes every write) loses the request's
//     read deadline, and its write deadline moves with every write: each
//     write must finish within StreamWriteTimeout, so a client that stops
//     reading is still cut, but a stream that keeps flowing never is;
//   - an upgraded connection (101 Switching Protocols) is handed over
//     without deadlines, with the same per-write bound, and is watched for
//     the end of its session (upgrade.go).
//
// Every other response keeps the server's deadlines.

// proxyWriter is the client's ResponseWriter as ReverseProxy sees it. It
// lives in the request's requestState, so wrapping costs no allocation.
type proxyWriter struct {
	http.ResponseWriter
	s         *Server
	sess      *session.Session // nil on a public route without a session
	streaming bool
	rc        *http.ResponseController // set with streaming
}

// Unwrap lets http.ResponseController reach Flush and the deadlines.
func (w *proxyWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Write moves a stream's write deadline before each write.
func (w *proxyWriter) Write(p []byte) (int, error) {
	if w.streaming && w.s.opts.StreamWriteTimeout > 0 {
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.s.opts.StreamWriteTimeout))
	}
	return w.ResponseWriter.Write(p)
}

// Flush is what ReverseProxy calls after every write of a stream.
func (w *proxyWriter) Flush() {
	rc := w.rc
	if rc == nil {
		rc = http.NewResponseController(w.ResponseWriter)
	}
	_ = rc.Flush()
}

// startStream is called with the upstream's response headers: when the
// response is a stream, the server's whole-response deadlines give way to
// the per-write bound.
func (w *proxyWriter) startStream(resp *http.Response) {
	if !isStream(resp) {
		return
	}
	rc := http.NewResponseController(w.ResponseWriter)
	w.streaming, w.rc = true, rc
	// The request is read: what is left of the read deadline would only
	// cut the stream (the server cancels the request when it fires).
	_ = rc.SetReadDeadline(time.Time{})
	var d time.Time
	if t := w.s.opts.StreamWriteTimeout; t > 0 {
		d = time.Now().Add(t)
	}
	_ = rc.SetWriteDeadline(d)
}

// isStream is ReverseProxy's own rule for flushing at once.
func isStream(resp *http.Response) bool {
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return false // handed over by Hijack instead
	}
	if isEventStream(resp.Header.Get("Content-Type")) {
		return true
	}
	return resp.ContentLength == -1
}

// isEventStream reports whether a Content-Type names text/event-stream,
// parameters aside. Only the media type matters here, so not
// mime.ParseMediaType, which allocates a map for every proxied response.
func isEventStream(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/event-stream")
}

// Hijack hands an upgraded connection over to ReverseProxy: without the
// server's deadlines, bounded per write, closed with a close frame when its
// session ends or the gateway stops.
func (w *proxyWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	_ = c.SetDeadline(time.Time{})
	return w.s.upgraded.add(c, w.sess, w.s.opts.StreamWriteTimeout, w.s.sessions), brw, nil
}
