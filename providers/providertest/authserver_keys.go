package providertest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"

	jose "github.com/go-jose/go-jose/v4"
)

// The AuthServer's keys: generation, rotation, signing and the JWKS.

func newAuthKey(alg jose.SignatureAlgorithm) (*authKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256, jose.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("providertest: AuthServer cannot sign with %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("providertest: generate key: %w", err)
	}
	kid := make([]byte, 9)
	_, _ = rand.Read(kid)
	return &authKey{kid: base64.RawURLEncoding.EncodeToString(kid), alg: alg, priv: priv}, nil
}

// Rotate makes a new key the signing key and returns its kid. The old keys
// stay published until Retire, so that tokens they signed still verify.
func (a *AuthServer) Rotate() (string, error) {
	k, err := newAuthKey(jose.SignatureAlgorithm(a.o.Alg))
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	a.keys = append(a.keys, k)
	a.mu.Unlock()
	return k.kid, nil
}

// Retire unpublishes every key but the signing one.
func (a *AuthServer) Retire() {
	a.mu.Lock()
	a.keys = a.keys[len(a.keys)-1:]
	a.mu.Unlock()
}

// KeyID is the signing key's kid.
func (a *AuthServer) KeyID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.keys[len(a.keys)-1].kid
}

// PublicKey is the signing key's public key.
func (a *AuthServer) PublicKey() crypto.PublicKey {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.keys[len(a.keys)-1].priv.Public()
}

// JWKSFetches counts the GETs of the JWKS served so far.
func (a *AuthServer) JWKSFetches() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fetches
}

// SetJWKSDown makes the JWKS endpoint answer 503 (an outage at the issuer).
func (a *AuthServer) SetJWKSDown(down bool) { a.mu.Lock(); a.jwksDown = down; a.mu.Unlock() }

// Sign signs claims with the current key, header typ at+jwt and its kid;
// tests use it to mint tokens the grant would never issue (expired, other
// audiences).
func (a *AuthServer) Sign(claims map[string]any) (string, error) {
	return a.SignWithHeaders(map[string]any{"kid": a.KeyID(), "typ": "at+jwt"}, claims)
}

// SignWithHeaders signs claims with the current key and exactly these
// protected headers besides alg (a typ or crit a real server would not
// send).
func (a *AuthServer) SignWithHeaders(headers, claims map[string]any) (string, error) {
	a.mu.Lock()
	k := a.keys[len(a.keys)-1]
	a.mu.Unlock()
	return SignJWT(k.priv, k.alg, headers, claims)
}

// SignJWT is a compact JWS of claims signed by key with alg, with extra
// protected headers. It lets tests build tokens a real issuer never would.
func SignJWT(key crypto.Signer, alg jose.SignatureAlgorithm, headers map[string]any, claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("marshal claims: %w", err)
	}
	opts := &jose.SignerOptions{}
	for k, v := range headers {
		opts = opts.WithHeader(jose.HeaderKey(k), v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return "", fmt.Errorf("new signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return jws.CompactSerialize()
}

func (a *AuthServer) serveKeys(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	a.mu.Lock()
	a.fetches++
	down := a.jwksDown
	var set jose.JSONWebKeySet
	for _, k := range a.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
	}
	a.mu.Unlock()
	if down {
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, set)
}
