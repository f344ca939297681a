package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// wsEcho is a WebSocket app: it first sends the X-Forwarded-User of its
// handshake, then echoes every message.
func wsEcho(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(websocket.Server{Handler: func(c *websocket.Conn) {
		_ = websocket.Message.Send(c, "user="+c.Request().Header.Get("X-Forwarded-User"))
		for {
			var msg string
			if err := websocket.Message.Receive(c, &msg); err != nil {
				return
			}
			if err := websocket.Message.Send(c, msg); err != nil {
				return
			}
		}
	}})
	t.Cleanup(srv.Close)
	return srv
}

// wsClient is a minimal hand-written WebSocket client: enough to see the
// frames the gateway sends, close frames included.
type wsClient struct {
	c net.Conn
	r *bufio.Reader
}

// dialWS opens a WebSocket to base+path with the cookie header.
func dialWS(base, path, cookie string) (*wsClient, error) {
	host := strings.TrimPrefix(base, "http://")
	c, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		return nil, err
	}
	var key [16]byte
	_, _ = rand.Read(key[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\n" +
		"Origin: " + base + "\r\nCookie: " + cookie + "\r\n\r\n"
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("handshake: status %d", resp.StatusCode)
	}
	_ = c.SetDeadline(time.Time{})
	return &wsClient{c: c, r: r}, nil
}

// send writes one masked text frame.
func (w *wsClient) send(msg string) error {
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	p := []byte(msg)
	hdr := []byte{0x81}
	switch {
	case len(p) < 126:
		hdr = append(hdr, 0x80|byte(len(p)))
	default:
		hdr = append(hdr, 0x80|126, byte(len(p)>>8), byte(len(p)))
	}
	hdr = append(hdr, mask[:]...)
	for i := range p {
		p[i] ^= mask[i%4]
	}
	_, err := w.c.Write(append(hdr, p...))
	return err
}

// frame is one frame from the server.
type frame struct {
	op      byte
	payload []byte
}

// closeCode is the status code of a close frame.
func (f frame) closeCode() int {
	if f.op != 0x8 || len(f.payload) < 2 {
		return 0
	}
	return int(binary.BigEndian.Uint16(f.payload))
}

// read returns the next frame, waiting at most d.
func (w *wsClient) read(d time.Duration) (frame, error) {
	_ = w.c.SetReadDeadline(time.Now().Add(d))
	var h [2]byte
	if _, err := io.ReadFull(w.r, h[:]); err != nil {
		return frame{}, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(w.r, b[:]); err != nil {
			return frame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(w.r, b[:]); err != nil {
			return frame{}, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if h[1]&0x80 != 0 || n > 1<<20 {
		return frame{}, errors.New("masked or huge frame from the server")
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(w.r, p); err != nil {
		return frame{}, err
	}
	return frame{op: h[0] & 0x0f, payload: p}, nil
}

// text reads the next frame and wants it to be text.
func (w *wsClient) text(t *testing.T) string {
	t.Helper()
	f, err := w.read(5 * time.Second)
	if err != nil || f.op != 0x1 {
		t.Fatalf("read: op %d %q, %v; want a text frame", f.op, f.payload, err)
	}
	return string(f.payload)
}

// closedWithin waits up to d for the server's close frame (then EOF) and
// returns its code, or fails the test.
func (w *wsClient) closedWithin(t *testing.T, d time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(d)
	code := 0
	for {
		f, err := w.read(time.Until(deadline))
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("WebSocket still open %v later", d)
			}
			return code // EOF: closed
		}
		if f.op == 0x8 {
			code = f.closeCode()
		}
	}
}

func (w *wsClient) Close() error { return w.c.Close() }
