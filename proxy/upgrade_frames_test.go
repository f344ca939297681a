package proxy

import (
	"bytes"
	"encoding/binary"
	"testing"
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
