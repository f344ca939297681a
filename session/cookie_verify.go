package session

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strconv"
	"sync"
	"time"
)

// sessionVerifier reads session cookies in gorilla/securecookie's format
// (base64url of "date|base64url(value)|HMAC-SHA256(name|date|value)") as
// securecookie.DecodeMulti does, without its per-call costs: a new HMAC
// (two SHA-256 blocks of key setup) and five buffers. The session cookie is
// checked on every proxied request. Writing stays with securecookie, and a
// differential fuzz test holds the two to the same answers.
type sessionVerifier struct {
	prefix []byte       // the cookie name and '|': the MAC covers them
	maxAge int64        // seconds a signature is accepted; 0: forever
	macs   []*sync.Pool // per key, current first: *macState
}

// macState is an HMAC and its buffers. Whatever goes through the hash.Hash
// interface escapes to the heap, so the buffers live here and are reused
// rather than allocated per cookie.
type macState struct {
	h   hash.Hash
	msg []byte
	sum []byte
}

func newSessionVerifier(name string, keys [][]byte, maxAge time.Duration) *sessionVerifier {
	v := &sessionVerifier{prefix: []byte(name + "|"), maxAge: int64(maxAge / time.Second)}
	for _, k := range keys {
		v.macs = append(v.macs, &sync.Pool{New: func() any {
			return &macState{h: hmac.New(sha256.New, k), msg: make([]byte, 0, 256), sum: make([]byte, 0, sha256.Size)}
		}})
	}
	return v
}

// verify returns the value signed in cookie when one of the keys signed it
// less than maxAge before now (Unix seconds). Like securecookie, it does not
// reject timestamps in the future.
func (v *sessionVerifier) verify(cookie string, now int64) (string, bool) {
	if len(cookie) == 0 || len(cookie) > maxCookieLen {
		return "", false
	}
	// A session cookie is ~130 bytes; larger ones (never ours) use the heap.
	var inBuf, rawBuf [256]byte
	in, raw := inBuf[:0], rawBuf[:0]
	if len(cookie) > len(inBuf) {
		in, raw = nil, nil
	}
	in = append(in, cookie...)
	raw, err := base64.URLEncoding.AppendDecode(raw, in)
	if err != nil {
		return "", false
	}
	i := bytes.IndexByte(raw, '|')
	if i < 0 {
		return "", false
	}
	j := bytes.IndexByte(raw[i+1:], '|')
	if j < 0 {
		return "", false
	}
	j += i + 1
	date, value, mac := raw[:i], raw[i+1:j], raw[j+1:]
	if !v.signed(raw[:j], mac) {
		return "", false
	}
	t, ok := parseUnix(date)
	if !ok || (v.maxAge != 0 && t < now-v.maxAge) {
		return "", false
	}
	var outBuf [64]byte
	out, err := base64.URLEncoding.AppendDecode(outBuf[:0], value)
	if err != nil || len(out) == 0 {
		return "", false
	}
	return string(out), true
}

// sign returns value signed at now (Unix seconds) with the current key, in
// the format verify and securecookie.DecodeMulti read. The session cookie
// is written here rather than by securecookie so that its timestamp comes
// from the injected clock (securecookie reads time.Now itself).
func (v *sessionVerifier) sign(value string, now int64) string {
	b64 := base64.URLEncoding
	msg := make([]byte, 0, 96)
	msg = strconv.AppendInt(msg, now, 10)
	msg = append(msg, '|')
	msg = b64.AppendEncode(msg, []byte(value))
	st := v.macs[0].Get().(*macState)
	st.h.Reset()
	st.msg = append(append(st.msg[:0], v.prefix...), msg...)
	st.h.Write(st.msg)
	st.sum = st.h.Sum(st.sum[:0])
	msg = append(append(msg, '|'), st.sum...)
	v.macs[0].Put(st)
	return b64.EncodeToString(msg)
}

// signed reports whether mac is the HMAC of name|msg under one of the keys.
func (v *sessionVerifier) signed(msg, mac []byte) bool {
	for _, p := range v.macs {
		st := p.Get().(*macState)
		st.h.Reset()
		st.msg = append(append(st.msg[:0], v.prefix...), msg...)
		st.h.Write(st.msg)
		st.sum = st.h.Sum(st.sum[:0])
		ok := hmac.Equal(st.sum, mac)
		if cap(st.msg) <= 1024 { // a huge forged cookie's buffer is not kept
			p.Put(st)
		}
		if ok {
			return true
		}
	}
	return false
}

// parseUnix reads a decimal int64 as strconv.ParseInt(s, 10, 64) does
// (an optional sign, then digits), without allocating.
func parseUnix(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	limit := uint64(1<<63 - 1)
	if neg {
		limit++
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (limit-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		return -int64(n), true // n == 1<<63 wraps to math.MinInt64, as intended
	}
	return int64(n), true
}
