package bearer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha256" // the hashes the algorithms name
	_ "crypto/sha512"
	"math/big"
)

// family is what kind of key an alg needs.
type family uint8

const (
	famRSA family = iota + 1
	famPSS
	famEC
	famEd
)

// algSpec is one asymmetric JWS algorithm of RFC 7518 (and EdDSA, RFC 8037).
type algSpec struct {
	fam   family
	hash  crypto.Hash
	curve elliptic.Curve // famEC: the curve the key must be on
}

// algs are the only algorithms accepted: asymmetric ones. "none" and the
// HMAC family (HS256…) are absent on purpose.
var algs = map[string]algSpec{
	"RS256":   {famRSA, crypto.SHA256, nil},
	"RS384":   {famRSA, crypto.SHA384, nil},
	"RS512":   {famRSA, crypto.SHA512, nil},
	"PS256":   {famPSS, crypto.SHA256, nil},
	"PS384":   {famPSS, crypto.SHA384, nil},
	"PS512":   {famPSS, crypto.SHA512, nil},
	"ES256":   {famEC, crypto.SHA256, elliptic.P256()},
	"ES384":   {famEC, crypto.SHA384, elliptic.P384()},
	"ES512":   {famEC, crypto.SHA512, elliptic.P521()},
	"EdDSA":   {famEd, 0, nil},
	"Ed25519": {famEd, 0, nil}, // the fully specified name of RFC 9864
}

// minRSABits: shorter RSA keys in a JWKS are ignored.
const minRSABits = 2048

// fits reports whether key can verify alg: the right kind, curve and size.
func (a algSpec) fits(key crypto.PublicKey) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return (a.fam == famRSA || a.fam == famPSS) && k.N.BitLen() >= minRSABits
	case *ecdsa.PublicKey:
		return a.fam == famEC && k.Curve == a.curve
	case ed25519.PublicKey:
		return a.fam == famEd && len(k) == ed25519.PublicKeySize
	}
	return false
}

// verify checks sig over input with key; fits(key) must hold.
func (a algSpec) verify(key crypto.PublicKey, input string, sig []byte) bool {
	if a.fam == famEd {
		return ed25519.Verify(key.(ed25519.PublicKey), []byte(input), sig)
	}
	h := a.hash.New()
	h.Write([]byte(input))
	digest := h.Sum(nil)
	switch a.fam {
	case famRSA:
		return rsa.VerifyPKCS1v15(key.(*rsa.PublicKey), a.hash, digest, sig) == nil
	case famPSS:
		// RFC 7518 3.5: the salt is as long as the hash.
		return rsa.VerifyPSS(key.(*rsa.PublicKey), a.hash, digest, sig,
			&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: a.hash}) == nil
	case famEC:
		// RFC 7518 3.4: R and S, each the curve's byte size, not ASN.1.
		k := key.(*ecdsa.PublicKey)
		n := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*n {
			return false
		}
		r := new(big.Int).SetBytes(sig[:n])
		s := new(big.Int).SetBytes(sig[n:])
		return ecdsa.Verify(k, digest, r, s)
	}
	return false
}
