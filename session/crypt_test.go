package session

import (
	"bytes"
	"testing"
)

func mustSealer(t *testing.T, secret []byte, previous ...[]byte) *sealer {
	t.Helper()
	s, err := newSealer(secret, previous)
	if err != nil {
		t.Fatalf("newSealer: %v", err)
	}
	return s
}

func TestSealRoundTrip(t *testing.T) {
	s := mustSealer(t, testSecret)
	for _, pt := range [][]byte{nil, []byte("{}"), []byte(`{"n":"홍길동"}`), bytes.Repeat([]byte("x"), 5000)} {
		sealed := s.seal("s:id", pt)
		got, err := s.open("s:id", sealed)
		if err != nil {
			t.Errorf("open(seal(%d bytes)): %v", len(pt), err)
			continue
		}
		if !bytes.Equal(got, pt) {
			t.Errorf("open(seal(x)): got %q, want %q", got, pt)
		}
	}
}

func TestSealNonceIsFresh(t *testing.T) {
	s := mustSealer(t, testSecret)
	a, b := s.seal("s:id", []byte("same")), s.seal("s:id", []byte("same"))
	if bytes.Equal(a, b) {
		t.Error("two seals of the same value are identical, want fresh nonces")
	}
}

func TestOpenRejects(t *testing.T) {
	s := mustSealer(t, testSecret)
	good := s.seal("s:id", []byte(`{"e":"hong@example.kr"}`))
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 1
		return b
	}
	for _, tc := range []struct {
		name    string
		binding string
		sealed  []byte
	}{
		{"other binding", "s:other", good},
		{"login-state binding", "ls:id", good},
		{"empty", "s:id", nil},
		{"header only", "s:id", good[:2]},
		{"truncated", "s:id", good[:len(good)-1]},
		{"version", "s:id", flip(0)},
		{"key id", "s:id", flip(1)},
		{"nonce", "s:id", flip(2)},
		{"ciphertext", "s:id", flip(len(good) - 20)},
		{"tag", "s:id", flip(len(good) - 1)},
		{"other secret", "s:id", mustSealer(t, otherSecret).seal("s:id", []byte("x"))},
	} {
		if _, err := s.open(tc.binding, tc.sealed); err == nil {
			t.Errorf("%s: open succeeded, want an error", tc.name)
		}
	}
}

func TestSealRotation(t *testing.T) {
	old := mustSealer(t, testSecret)
	rotated := mustSealer(t, otherSecret, testSecret)
	v := old.seal("s:id", []byte("v"))
	if got, err := rotated.open("s:id", v); err != nil || string(got) != "v" {
		t.Errorf("open with the old secret in previous: got %q, %v; want %q", got, err, "v")
	}
	// The key id is a hint: a value written by the current key keeps id 0
	// and must still open once that key has become "previous 1".
	if v[1] != 0 {
		t.Errorf("key id: got %d, want 0", v[1])
	}
	w := rotated.seal("s:id", []byte("w"))
	if _, err := old.open("s:id", w); err == nil {
		t.Error("a value sealed with the new secret opened with only the old one")
	}
}

func TestNewSealerChecksSecrets(t *testing.T) {
	long := bytes.Repeat([]byte("k"), MinSecretLen)
	tooMany := make([][]byte, maxPrevious+1)
	for i := range tooMany {
		tooMany[i] = long
	}
	for _, tc := range []struct {
		name     string
		secret   []byte
		previous [][]byte
		wantErr  bool
	}{
		{"ok", long, nil, false},
		{"short", long[:MinSecretLen-1], nil, true},
		{"none", nil, nil, true},
		{"short previous", long, [][]byte{[]byte("x")}, true},
		{"too many previous", long, tooMany, true},
	} {
		_, err := newSealer(tc.secret, tc.previous)
		if got := err != nil; got != tc.wantErr {
			t.Errorf("%s: got error %v, want error %v", tc.name, err, tc.wantErr)
		}
	}
}
