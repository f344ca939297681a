package providertest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
)

// signingKey signs id_tokens with RS256, as Google and Kakao do.
type signingKey struct {
	priv *rsa.PrivateKey
	kid  string
	jwks []byte // the JWKS document
}

// One key per process: generating 2048-bit keys for every fake would make
// tests slow, and nothing depends on fakes having different keys.
var processKey = sync.OnceValues(func() (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("providertest: generate key: %w", err)
	}
	pub := jose.JSONWebKey{Key: &priv.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("providertest: key thumbprint: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(tp[:20])
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	if err != nil {
		return nil, fmt.Errorf("providertest: marshal jwks: %w", err)
	}
	return &signingKey{priv: priv, kid: pub.KeyID, jwks: jwks}, nil
})

// sign returns claims as a compact RS256 JWS with kid and typ headers.
func (k *signingKey) sign(claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("marshal claims: %w", err)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k.priv}, opts)
	if err != nil {
		return "", fmt.Errorf("new signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return jws.CompactSerialize()
}

// signTyped is sign with another typ header ("logout+jwt").
func (k *signingKey) signTyped(claims any, typ string) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("marshal claims: %w", err)
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", k.kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k.priv}, opts)
	if err != nil {
		return "", fmt.Errorf("new signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return jws.CompactSerialize()
}

// verify checks a compact JWS signed by k and returns its payload.
func (k *signingKey) verify(tok string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	return jws.Verify(&k.priv.PublicKey)
}

// atHash is the OIDC at_hash of an RS256 access token: the left half of
// its SHA-256, base64url.
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

func (f *Fake) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(f.key.jwks)
}

// discovery is an OpenID Provider Metadata document.
type discovery struct {
	Issuer                 string   `json:"issuer"`
	AuthorizationEndpoint  string   `json:"authorization_endpoint"`
	TokenEndpoint          string   `json:"token_endpoint"`
	UserinfoEndpoint       string   `json:"userinfo_endpoint"`
	RevocationEndpoint     string   `json:"revocation_endpoint,omitempty"`
	JWKSURI                string   `json:"jwks_uri"`
	ResponseTypes          []string `json:"response_types_supported"`
	SubjectTypes           []string `json:"subject_types_supported"`
	IDTokenSigningAlgs     []string `json:"id_token_signing_alg_values_supported"`
	Scopes                 []string `json:"scopes_supported,omitempty"`
	TokenEndpointAuth      []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuth []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	Claims                 []string `json:"claims_supported"`
	CodeChallengeMethods   []string `json:"code_challenge_methods_supported"`
	GrantTypes             []string `json:"grant_types_supported"`
	RequestURIParamSupport *bool    `json:"request_uri_parameter_supported,omitempty"`
	// With Options.Logout (logout.go).
	EndSessionEndpoint         string `json:"end_session_endpoint,omitempty"`
	BackchannelLogoutSupported bool   `json:"backchannel_logout_supported,omitempty"`
	BackchannelLogoutSession   bool   `json:"backchannel_logout_session_supported,omitempty"`
}

func (f *Fake) discovery() discovery {
	e := f.Endpoints()
	d := discovery{
		Issuer:                f.base,
		AuthorizationEndpoint: e.AuthURL,
		TokenEndpoint:         e.TokenURL,
		JWKSURI:               e.JWKSURL,
		ResponseTypes:         []string{"code"},
		SubjectTypes:          []string{"public"},
		IDTokenSigningAlgs:    []string{"RS256"},
		GrantTypes:            []string{"authorization_code", "refresh_token"},
	}
	if f.kind == OIDC {
		return f.oidcDiscovery(d)
	}
	if f.kind == Google {
		d.UserinfoEndpoint = e.UserinfoURL
		d.RevocationEndpoint = e.RevokeURL
		d.Scopes = []string{"openid", "email", "profile"}
		d.TokenEndpointAuth = []string{"client_secret_post", "client_secret_basic"}
		d.Claims = []string{"aud", "email", "email_verified", "exp", "family_name", "given_name",
			"iat", "iss", "name", "picture", "sub"}
		d.CodeChallengeMethods = []string{"plain", "S256"}
		if f.o.Logout {
			d.EndSessionEndpoint = e.EndSessionURL
			d.BackchannelLogoutSupported, d.BackchannelLogoutSession = true, true
		}
		return d
	}
	d.UserinfoEndpoint = f.base + "/v1/oidc/userinfo"
	d.TokenEndpointAuth = []string{"client_secret_post"}
	d.Claims = []string{"iss", "aud", "sub", "auth_time", "exp", "iat", "nonce", "nickname", "picture", "email"}
	d.CodeChallengeMethods = []string{"S256"}
	no := false
	d.RequestURIParamSupport = &no
	return d
}

func (f *Fake) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	writeJSON(w, http.StatusOK, f.discovery())
}

// writeJSON writes v the way the providers do: UTF-8, Hangul unescaped,
// never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshalJSON(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeHTML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
