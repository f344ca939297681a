package proxy

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// wsFrame builds a frame header (server side: unmasked unless mask) and
// payload of n bytes.
func wsFrame(n int, mask bool) []byte {
	b := []byte{0x82}
	m := byte(0)
	if mask {
		m = 0x80
	}
	switch {
	case n < 126:
		b = append(b, m|byte(n))
	case n < 1<<16:
		b = append(b, m|126, 0, 0)
		binary.BigEndian.PutUint16(b[2:], uint16(n))
	default:
		b = append(b, m|127, 0, 0, 0, 0, 0, 0, 0, 0)
		binary.BigEndian.PutUint64(b[2:], uint64(n))
	}
	if mask {
		b = append(b, 1, 2, 3, 4)
	}
	return append(b, bytes.Repeat([]byte{'x'}, n)...)
}

// TestFrameCursor: the cursor is at a boundary exactly after each whole
// frame, however the bytes are split into writes.
func TestFrameCursor(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sizes  []int
		masked bool
	}{
		{"empty frames", []int{0, 0, 0}, false},
		{"short", []int{1, 125, 5}, false},
		{"16-bit length", []int{126, 1000, 65535}, false},
		{"64-bit length", []int{65536, 3}, false},
		{"masked", []int{0, 10, 300}, true},
	} {
		for _, chunk := range []int{1, 2, 3, 7, 64, 1 << 20} {
			var f frameCursor
			for i, n := range tc.sizes {
				fr := wsFrame(n, tc.masked)
				for len(fr) > 0 {
					if f.atBoundary() && i > 0 && len(fr) < len(wsFrame(n, tc.masked)) {
						t.Fatalf("%s/%d: boundary inside frame %d", tc.name, chunk, i)
					}
					k := min(chunk, len(fr))
					f.advance(fr[:k])
					fr = fr[k:]
				}
				if !f.atBoundary() {
					t.Fatalf("%s/%d: not at a boundary after frame %d (%+v)", tc.name, chunk, i, f)
				}
			}
		}
	}
}

// TestFrameCursorUntilBoundary: untilBoundary stops where the frame ends.
func TestFrameCursorUntilBoundary(t *testing.T) {
	var f frameCursor
	two := append(wsFrame(5, false), wsFrame(3, false)...)
	f.advance(two[:3]) // inside the first frame
	if n := f.untilBoundary(two[3:]); n != 4 {
		t.Fatalf("untilBoundary = %d, want 4 (the rest of the first frame)", n)
	}
	if n := new(frameCursor).untilBoundary(two); n != 0 {
		t.Fatalf("at a boundary already: untilBoundary = %d, want 0", n)
	}
}

// FuzzFrameCursor: any byte stream, split anywhere, leaves the cursor in
// the same state as when written whole; untilBoundary never overshoots.
func FuzzFrameCursor(f *testing.F) {
	f.Add(wsFrame(3, false), uint8(1))
	f.Add(append(wsFrame(200, true), wsFrame(0, false)...), uint8(7))
	f.Add([]byte{0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, uint8(2))
	f.Fuzz(func(t *testing.T, p []byte, chunk uint8) {
		var whole, split frameCursor
		whole.advance(p)
		c := int(chunk%16) + 1
		for q := p; len(q) > 0; {
			k := min(c, len(q))
			split.advance(q[:k])
			q = q[k:]
		}
		if whole != split {
			t.Fatalf("split writes: %+v, whole: %+v", split, whole)
		}
		var g frameCursor
		n := g.untilBoundary(p)
		if n > len(p) {
			t.Fatalf("untilBoundary %d > %d", n, len(p))
		}
		g.advance(p[:n])
		if n < len(p) && !g.atBoundary() {
			t.Fatalf("stopped at %d, not at a boundary", n)
		}
	})
}

// TestEndWaitsForFrameBoundary: end sends its close frame between two of
// the app's frames. Mid-frame it waits for the Write that finishes the
// frame and sends the close frame right then; if the frame never
// finishes, it closes after closeGrace without one. The bubble's fake
// clock makes "right then" exact: a missed signal (or a poll) would wake
// end later than the Write that finished the frame.
func TestEndWaitsForFrameBoundary(t *testing.T) {
	frame := wsFrame(300, false)
	closing := closeFrame(closePolicyViolation, "session ended")
	tests := []struct {
		name      string
		before    []byte // written before end starts
		after     []byte // written while end waits
		want      []byte // what the client reads
		wantAfter time.Duration
	}{
		{"at a boundary", frame, nil, append(bytes.Clone(frame), closing...), 0},
		{"frame finished while ending", frame[:7], frame[7:], append(bytes.Clone(frame), closing...), 0},
		{"frame never finished", frame[:7], nil, frame[:7], closeGrace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				got, took := endMidStream(t, tc.before, tc.after)
				if took != tc.wantAfter {
					t.Errorf("end took %v, want %v", took, tc.wantAfter)
				}
				if !bytes.Equal(got, tc.want) {
					t.Errorf("client read % x\nwant % x", got, tc.want)
				}
			})
		})
	}
}

// endMidStream writes before to an upgraded net.Pipe, ends the connection,
// writes after once end is waiting, and returns what the client read and
// how long end took. It runs in a synctest bubble.
func endMidStream(t *testing.T, before, after []byte) ([]byte, time.Duration) {
	server, client := net.Pipe()
	defer client.Close()
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(client)
		got <- b
	}()
	u := newUpgrades(&metrics{
		upgraded:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "upgraded"}),
		upgradesEnded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ended"}, []string{"reason"}),
	})
	c := u.add(server, nil, 0, nil)
	if _, err := c.Write(before); err != nil {
		t.Fatalf("write before end: %v", err)
	}
	start := time.Now()
	ended := make(chan time.Duration)
	go func() {
		c.end(closePolicyViolation, "session ended", "session_ended")
		ended <- time.Since(start)
	}()
	synctest.Wait() // end waits for the frame, or is done
	if after != nil {
		if n, err := c.Write(after); err != nil || n != len(after) {
			t.Fatalf("write while ending: %d, %v", n, err)
		}
	}
	took := <-ended
	if n := len(u.conns); n != 0 {
		t.Errorf("%d connections still registered after end", n)
	}
	return <-got, took
}
