package session

import (
	"encoding/binary"
	"errors"
	"time"
)

// A LoginState is encoded as a version byte and then tagged fields:
//
//	0x01 | (tag uvarint, length uvarint, bytes)*
//
// Strings are their bytes; times are a varint of Unix nanoseconds. A
// decoder skips tags it does not know, so a field added later (a replayed
// POST body, the URL fragment) does not break a replica still running the
// previous version. Tags are never reused.
const loginCodecVersion = 0x01

const (
	tagProvider  = 1
	tagVerifier  = 2
	tagNonce     = 3
	tagRedirect  = 4
	tagCreatedAt = 5
	tagClient    = 6
	// A kept form POST (replay.go).
	tagReplayURL         = 7
	tagReplayContentType = 8
	tagReplayBody        = 9
	tagReplaySession     = 10
	tagConnect           = 11 // /oauth2/connect (accounts.go)
	// Next free tag: 12.
)

var errLoginCodec = errors.New("malformed login state encoding")

// encode returns st's encoding. Empty fields are left out.
func (st *LoginState) encode() []byte {
	b := make([]byte, 0, 64+len(st.Provider)+len(st.Verifier)+len(st.Nonce)+len(st.Redirect)+len(st.client)+len(st.Connect))
	b = append(b, loginCodecVersion)
	b = appendLoginField(b, tagProvider, st.Provider)
	b = appendLoginField(b, tagVerifier, st.Verifier)
	b = appendLoginField(b, tagNonce, st.Nonce)
	b = appendLoginField(b, tagRedirect, st.Redirect)
	if !st.CreatedAt.IsZero() {
		b = appendLoginField(b, tagCreatedAt, string(binary.AppendVarint(nil, st.CreatedAt.UnixNano())))
	}
	b = appendLoginField(b, tagClient, st.client)
	if rp := st.Replay; rp != nil {
		b = appendLoginField(b, tagReplayURL, rp.URL)
		b = appendLoginField(b, tagReplayContentType, rp.ContentType)
		b = appendLoginField(b, tagReplayBody, rp.Body)
		b = appendLoginField(b, tagReplaySession, rp.SessionID)
	}
	b = appendLoginField(b, tagConnect, st.Connect)
	return b
}

func appendLoginField[T string | []byte](b []byte, tag uint64, v T) []byte {
	if len(v) == 0 {
		return b
	}
	b = binary.AppendUvarint(b, tag)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// decodeLoginState reads what encode wrote. Unknown tags are skipped; a
// truncated field, a bad time or a second copy of a known tag is an error.
func decodeLoginState(b []byte) (*LoginState, error) {
	if len(b) == 0 || b[0] != loginCodecVersion {
		return nil, errLoginCodec
	}
	b = b[1:]
	st := new(LoginState)
	var seen uint64 // bit per known tag
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errLoginCodec
		}
		b = b[n:]
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return nil, errLoginCodec
		}
		v := b[n : n+int(l)]
		b = b[n+int(l):]
		if tag < 64 {
			if seen&(1<<tag) != 0 {
				return nil, errLoginCodec
			}
			seen |= 1 << tag
		}
		switch tag {
		case tagProvider:
			st.Provider = string(v)
		case tagVerifier:
			st.Verifier = string(v)
		case tagNonce:
			st.Nonce = string(v)
		case tagRedirect:
			st.Redirect = string(v)
		case tagCreatedAt:
			ns, k := binary.Varint(v)
			if k != len(v) {
				return nil, errLoginCodec
			}
			st.CreatedAt = time.Unix(0, ns)
		case tagClient:
			st.client = string(v)
		case tagReplayURL:
			st.replay().URL = string(v)
		case tagReplayContentType:
			st.replay().ContentType = string(v)
		case tagReplayBody:
			st.replay().Body = append([]byte(nil), v...)
		case tagReplaySession:
			st.replay().SessionID = string(v)
		case tagConnect:
			st.Connect = string(v)
		}
	}
	return st, nil
}
