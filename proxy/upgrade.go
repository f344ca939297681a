package proxy

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socialgate/socialgate/session"
)

// Authorisation happens once, at the upgrade; a WebSocket then carries
// traffic for as long as it stays open. So every upgraded connection is
// registered here and watched: when its session ends (sign-out, sign-out
// everywhere, revocation, back-channel logout, expiry; on any replica) or
// the gateway stops, the client gets a WebSocket close frame and the
// connection is closed, which also ends ReverseProxy's copy to the app.
// Nothing is checked per frame.

// WebSocket close codes (RFC 6455 section 7.4.1).
const (
	closeGoingAway       = 1001 // the gateway is stopping
	closePolicyViolation = 1008 // the session ended
)

// closeGrace is how long a close waits for a frame the app is in the
// middle of sending, so that the close frame lands between frames.
const closeGrace = time.Second

// upgrades are the open upgraded connections of one Server.
type upgrades struct {
	m     *metrics
	mu    sync.Mutex
	conns map[*upgradedConn]struct{}
	wg    sync.WaitGroup
}

func newUpgrades(m *metrics) *upgrades {
	return &upgrades{m: m, conns: map[*upgradedConn]struct{}{}}
}

// watcher is what an upgraded connection needs of the session manager.
type watcher interface {
	Watch(s *session.Session, ended func()) (stop func())
}

// add registers c and, with a session, watches it.
func (u *upgrades) add(c net.Conn, sess *session.Session, writeTimeout time.Duration, w watcher) *upgradedConn {
	uc := &upgradedConn{Conn: c, u: u, writeTimeout: writeTimeout}
	u.mu.Lock()
	u.conns[uc] = struct{}{}
	u.wg.Add(1)
	u.mu.Unlock()
	u.m.upgraded.Inc()
	if sess != nil && w != nil {
		// The callback runs on the watcher's goroutine: never block it.
		uc.stopWatch = w.Watch(sess, func() { go uc.end(closePolicyViolation, "session ended", "session_ended") })
	}
	return uc
}

// CloseUpgraded sends every open upgraded connection a close frame (1001,
// going away), closes it, and waits until ReverseProxy has let go of them
// all or ctx ends. It reports how many it closed. Run it after
// http.Server.Shutdown, which does not track hijacked connections.
func (s *Server) CloseUpgraded(ctx context.Context) int {
	u := s.upgraded
	u.mu.Lock()
	open := make([]*upgradedConn, 0, len(u.conns))
	for c := range u.conns {
		open = append(open, c)
	}
	u.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range open {
		wg.Go(func() { c.end(closeGoingAway, "gateway stopping", "shutdown") })
	}
	wg.Wait()
	done := make(chan struct{})
	go func() { u.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return len(open)
}

// Upgraded reports how many upgraded connections are open through s.
func (s *Server) Upgraded() int {
	s.upgraded.mu.Lock()
	defer s.upgraded.mu.Unlock()
	return len(s.upgraded.conns)
}

// upgradedConn is the client side of an upgraded connection. Writes (the
// app's frames to the client) are serialised with the close frame and
// tracked frame by frame, so the close frame never lands inside a frame.
type upgradedConn struct {
	net.Conn
	u            *upgrades
	writeTimeout time.Duration
	stopWatch    func()

	ending atomic.Bool
	wmu    sync.Mutex
	frames frameCursor
	// boundary is set by end, under wmu, when the app is in the middle of
	// a frame; the Write that finishes that frame closes it (and clears
	// it), so end sends its close frame at once instead of polling.
	boundary chan struct{}
	// endBy is end's write deadline (Unix nanoseconds); 0 until end sets it.
	endBy     atomic.Int64
	closeOnce sync.Once
}

// Write forwards the app's bytes. Once the connection is ending it only
// finishes the frame in flight.
func (c *upgradedConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.ending.Load() {
		if c.frames.atBoundary() {
			return 0, net.ErrClosed
		}
		p = p[:c.frames.untilBoundary(p)]
	} else if c.writeTimeout > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout))
		// end may have started between the check above and this deadline,
		// which would replace its shorter one: a client that stopped
		// reading would then hold end for write_timeout, not closeGrace.
		// (endBy still 0: end has yet to set its deadline, which then wins.)
		if by := c.endBy.Load(); c.ending.Load() && by != 0 {
			_ = c.Conn.SetWriteDeadline(time.Unix(0, by))
		}
	}
	n, err := c.Conn.Write(p)
	c.frames.advance(p[:n])
	if c.boundary != nil && c.frames.atBoundary() {
		close(c.boundary)
		c.boundary = nil
	}
	return n, err
}

// upgradedCopyBuffer is the buffer of each direction of an upgraded
// connection. ReverseProxy copies with io.Copy, which would take 32 KiB per
// direction for the connection's whole life; WebSocket frames are mostly
// small, and 1,000 idle WebSockets should not pin 64 MiB.
const upgradedCopyBuffer = 8 << 10

// ReadFrom copies the app's side to the client (io.Copy finds it).
func (c *upgradedConn) ReadFrom(r io.Reader) (int64, error) { return copyUpgraded(c, r) }

// WriteTo copies the client's side to the app (io.Copy finds it).
func (c *upgradedConn) WriteTo(w io.Writer) (int64, error) { return copyUpgraded(w, c.Conn) }

// copyUpgraded copies r to w through one upgradedCopyBuffer. Not
// io.CopyBuffer: it would hand the copy back to ReadFrom/WriteTo (the
// TCP connection has both), and it calls a short write an error, where
// upgradedConn.Write stops at a frame boundary on purpose once ending.
func copyUpgraded(w io.Writer, r io.Reader) (int64, error) {
	buf := make([]byte, upgradedCopyBuffer)
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// end sends a close frame with code and reason between two frames, then
// closes the connection. A frame the app is still sending gets closeGrace
// to finish; a client that does not read gets no close frame.
func (c *upgradedConn) end(code uint16, reason, metric string) {
	if !c.ending.CompareAndSwap(false, true) {
		return
	}
	by := time.Now().Add(closeGrace)
	c.endBy.Store(by.UnixNano())
	c.u.m.upgradesEnded.WithLabelValues(metric).Inc()
	// Unblocks a write stuck on a client that does not read.
	_ = c.Conn.SetWriteDeadline(by)
	c.wmu.Lock()
	if !c.frames.atBoundary() {
		// The app's copy holds wmu only within one Write, so the rest of
		// the frame comes in a later Write, which signals when it is done.
		wait := make(chan struct{})
		c.boundary = wait
		c.wmu.Unlock()
		t := time.NewTimer(time.Until(by)) // closeGrace from the start, not from here: a write may have held wmu until by
		select {
		case <-wait:
		case <-t.C:
		}
		t.Stop()
		c.wmu.Lock()
		c.boundary = nil
	}
	// Still mid-frame after closeGrace: the app stalled, or the client
	// stopped reading and the deadline failed the write. A close frame now
	// would land inside the frame, so the connection just closes.
	if c.frames.atBoundary() {
		_, _ = c.Conn.Write(closeFrame(code, reason))
	}
	c.wmu.Unlock()
	_ = c.Close()
}

// Close unregisters c. ReverseProxy calls it when either side is done.
func (c *upgradedConn) Close() error {
	err := net.ErrClosed
	c.closeOnce.Do(func() {
		err = c.Conn.Close()
		if c.stopWatch != nil {
			c.stopWatch()
		}
		u := c.u
		u.mu.Lock()
		delete(u.conns, c)
		u.mu.Unlock()
		u.m.upgraded.Dec()
		u.wg.Done()
	})
	return err
}

// closeFrame is an unmasked close frame, as a server sends it.
func closeFrame(code uint16, reason string) []byte {
	b := make([]byte, 4, 4+len(reason))
	b[0] = 0x88 // FIN, opcode close
	b[1] = byte(2 + len(reason))
	binary.BigEndian.PutUint16(b[2:], code)
	return append(b, reason...)
}

// frameCursor follows the WebSocket framing of a byte stream, to know
// where one frame ends. A connection upgraded to something other than
// WebSocket is followed the same way; its close frame is then meaningless
// but harmless, as the connection closes right after.
type frameCursor struct {
	hdr  [14]byte
	nhdr int    // header bytes of the current frame seen so far
	left uint64 // payload bytes of the current frame still to come
}

func (f *frameCursor) atBoundary() bool { return f.nhdr == 0 && f.left == 0 }

// advance consumes p.
func (f *frameCursor) advance(p []byte) {
	for len(p) > 0 {
		if f.left > 0 {
			k := min(uint64(len(p)), f.left)
			f.left -= k
			p = p[k:]
			continue
		}
		f.hdr[f.nhdr] = p[0]
		f.nhdr++
		p = p[1:]
		if f.nhdr == headerLen(f.hdr[:f.nhdr]) {
			f.left = payloadLen(f.hdr[:f.nhdr])
			f.nhdr = 0
		}
	}
}

// untilBoundary is how much of p completes the current frame.
func (f *frameCursor) untilBoundary(p []byte) int {
	g := *f
	for i := range p {
		if g.atBoundary() {
			return i
		}
		g.advance(p[i : i+1])
	}
	return len(p)
}

// headerLen is the length of a frame header that starts with h (at least
// one byte): 2, plus 2 or 8 bytes of extended length, plus 4 of mask.
func headerLen(h []byte) int {
	if len(h) < 2 {
		return 2
	}
	n := 2
	switch h[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h[1]&0x80 != 0 {
		n += 4
	}
	return n
}

// payloadLen reads the payload length of a complete header.
func payloadLen(h []byte) uint64 {
	switch l := h[1] & 0x7f; l {
	case 126:
		return uint64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		return binary.BigEndian.Uint64(h[2:10])
	default:
		return uint64(l)
	}
}
