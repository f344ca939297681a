package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// MinSecretLen is the shortest secret accepted for signing cookies and for
// encrypting store values.
const MinSecretLen = 32

const (
	sealVersion   = 1
	sealHeaderLen = 2 // version | key id
	sealInfo      = "socialgate session"
	macInfo       = "socialgate index"
	maxPrevious   = 255 // the key id is one byte; 0 is the current key
)

// errOpen means a sealed value did not authenticate under any known key:
// tampered, truncated, moved from another key, or sealed with a secret that
// has since been dropped from the previous secrets.
var errOpen = errors.New("sealed value does not open")

// sealer encrypts store values with AES-256-GCM so that a dump of Redis
// shows neither e-mails nor provider tokens.
//
// A sealed value is version | key id | nonce | ciphertext. The key id says
// which secret sealed it (0: current, i: PreviousSecrets[i-1]); it is only a
// hint, because after a rotation the old "current" key is at another index.
// The binding string (the key name without prefix, e.g. "s:"+id) is
// additional data, so a value copied under another key does not open.
type sealer struct {
	aeads []cipher.AEAD // [0] current, [i] previous secret i-1
	macs  [][]byte      // HMAC keys for index key names, same order (accounts_redis.go)
}

func newSealer(secret []byte, previous [][]byte) (*sealer, error) {
	if len(previous) > maxPrevious {
		return nil, fmt.Errorf("at most %d previous secrets, got %d", maxPrevious, len(previous))
	}
	s := &sealer{}
	for i, sec := range append([][]byte{secret}, previous...) {
		if len(sec) < MinSecretLen {
			if i == 0 {
				return nil, fmt.Errorf("secret: at least %d bytes, got %d", MinSecretLen, len(sec))
			}
			return nil, fmt.Errorf("previous secret %d: at least %d bytes, got %d", i, MinSecretLen, len(sec))
		}
		aead, err := newAEAD(sec)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, aead)
		mac, err := hkdf.Key(sha256.New, sec, nil, macInfo, 32)
		if err != nil {
			return nil, fmt.Errorf("derive index key: %w", err)
		}
		s.macs = append(s.macs, mac)
	}
	return s, nil
}

func newAEAD(secret []byte) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, secret, nil, sealInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return aead, nil
}

// seal encrypts plaintext with the current key, bound to binding.
func (s *sealer) seal(binding string, plaintext []byte) []byte {
	aead := s.aeads[0]
	out := make([]byte, sealHeaderLen+aead.NonceSize(), sealHeaderLen+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0], out[1] = sealVersion, 0
	nonce := out[sealHeaderLen:]
	// crypto/rand.Read never fails (Go 1.24+): it crashes the program instead.
	_, _ = rand.Read(nonce)
	return aead.Seal(out, nonce, plaintext, additional(out[:sealHeaderLen], binding))
}

// open decrypts a value sealed for binding, trying the key named by the key
// id first and then every other key.
func (s *sealer) open(binding string, sealed []byte) ([]byte, error) {
	nonceLen := s.aeads[0].NonceSize()
	if len(sealed) < sealHeaderLen+nonceLen || sealed[0] != sealVersion {
		return nil, errOpen
	}
	hint := int(sealed[1])
	ad := additional(sealed[:sealHeaderLen], binding)
	nonce := sealed[sealHeaderLen : sealHeaderLen+nonceLen]
	body := sealed[sealHeaderLen+nonceLen:]
	try := func(i int) ([]byte, bool) {
		pt, err := s.aeads[i].Open(nil, nonce, body, ad)
		return pt, err == nil
	}
	if hint < len(s.aeads) {
		if pt, ok := try(hint); ok {
			return pt, nil
		}
	}
	for i := range s.aeads {
		if i == hint {
			continue
		}
		if pt, ok := try(i); ok {
			return pt, nil
		}
	}
	return nil, errOpen
}

// additional is the GCM additional data: the header (so the version and key
// id cannot be altered) and the binding.
func additional(header []byte, binding string) []byte {
	ad := make([]byte, 0, len(header)+len(binding))
	ad = append(ad, header...)
	return append(ad, binding...)
}
