package session

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// The Redis store reads a session on every request that the local cache
// (if any) does not answer, so its encoding is a compact binary one:
// decoding it costs a tenth of encoding/json's reflection and time parsing.
//
//	0x02 | Provider Subject Email Name Picture AccessToken RefreshToken
//	       IDToken CSRF SID UserAgent IP (each uvarint length + bytes) |
//	       EmailVerified (1 byte) | TokenExpiry CreatedAt LastSeen (each: 0,
//	       or 1 + varint Unix seconds + uvarint nanoseconds)
//	       [ | Account Identities (joined by ","), as strings ]
//
// The bracketed tail is written only when one of its fields is set, so
// sessions without accounts stay as short as they were.
//
// Version 0x01 lacks SID, UserAgent and IP and still decodes. JSON always
// starts with '{', so values written as JSON by earlier versions decode
// too.
const (
	codecV1      = 0x01
	codecVersion = 0x02
)

var errCodec = errors.New("malformed session encoding")

// Times outside years 1 to 9999 are refused: time.Unix would wrap them.
const (
	minUnix = -62135596800
	maxUnix = 253402300799
)

// encodeSession appends s (all but ID) to b.
func encodeSession(b []byte, s *Session) []byte {
	b = append(b, codecVersion)
	for _, f := range []string{s.Provider, s.Subject, s.Email, s.Name, s.Picture,
		s.AccessToken, s.RefreshToken, s.IDToken, s.CSRF, s.SID, s.UserAgent, s.IP} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	if s.EmailVerified {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendTime(b, s.TokenExpiry)
	b = appendTime(b, s.CreatedAt)
	b = appendTime(b, s.LastSeen)
	if s.Account == "" && len(s.Identities) == 0 {
		return b
	}
	for _, f := range []string{s.Account, strings.Join(s.Identities, ",")} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// decodeSession fills s from b, written by encodeSession or, before it,
// by encoding/json.
func decodeSession(b []byte, s *Session) error {
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, s)
	}
	if len(b) == 0 || (b[0] != codecVersion && b[0] != codecV1) {
		return errCodec
	}
	d := decoder{b: b[1:]}
	fields := []*string{&s.Provider, &s.Subject, &s.Email, &s.Name, &s.Picture,
		&s.AccessToken, &s.RefreshToken, &s.IDToken, &s.CSRF, &s.SID, &s.UserAgent, &s.IP}
	if b[0] == codecV1 {
		fields = fields[:9]
	}
	for _, f := range fields {
		*f = d.string()
	}
	switch d.byte() {
	case 0:
		s.EmailVerified = false
	case 1:
		s.EmailVerified = true
	default:
		d.err = errCodec
	}
	s.TokenExpiry = d.time()
	s.CreatedAt = d.time()
	s.LastSeen = d.time()
	if d.err == nil && len(d.b) != 0 {
		s.Account = d.string()
		if ids := d.string(); ids != "" {
			s.Identities = strings.Split(ids, ",")
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errCodec
	}
	return d.err
}

// decoder reads encodeSession's fields; after the first error every read
// returns a zero value and err stays set.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() { d.err, d.b = errCodec, nil }

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) time() time.Time {
	switch d.byte() {
	case 0:
		return time.Time{}
	case 1:
	default:
		d.fail()
		return time.Time{}
	}
	sec, n := binary.Varint(d.b)
	if n <= 0 || sec < minUnix || sec > maxUnix {
		d.fail()
		return time.Time{}
	}
	d.b = d.b[n:]
	nsec := d.uvarint()
	if nsec >= uint64(time.Second) {
		d.fail()
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec))
}
