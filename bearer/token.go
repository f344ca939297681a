package bearer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// MaxTokenBytes bounds the tokens the verifier reads. Real access tokens
// are one or two kilobytes; anything far longer is not one.
const MaxTokenBytes = 16 << 10

// jws is a compact JWS split into its parts, the header decoded.
type jws struct {
	header       header
	signingInput string // header.payload, the bytes the signature covers
	payload      []byte
	signature    []byte
}

// header holds the JOSE header parameters the verifier reads. The key
// hints a token may carry (jwk, jku, x5u, x5c) are never read: the keys
// come from the issuer's JWKS only, never from the token.
type header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Cty  string          `json:"cty"`
	Crit json.RawMessage `json:"crit"`
}

// b64 is base64url without padding, strict about the unused bits, so that
// one token has exactly one spelling (the cache is keyed by its bytes).
var b64 = base64.RawURLEncoding.Strict()

// parseJWS splits and decodes a compact JWS and checks its header: an
// allowed asymmetric alg, an access-token typ, no crit, no nesting. It
// does not verify the signature or read the claims.
func parseJWS(raw string) (*jws, error) {
	if len(raw) > MaxTokenBytes {
		return nil, invalid("too long")
	}
	h, rest, ok := strings.Cut(raw, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.IndexByte(s, '.') >= 0 {
		return nil, invalid("not a compact JWS (three dot-separated parts)")
	}
	hb, err := b64.DecodeString(h)
	if err != nil {
		return nil, invalid("header is not base64url")
	}
	var t jws
	if err := strictJSON(hb, &t.header); err != nil {
		return nil, invalid("header is not a JSON object")
	}
	if _, ok := algs[t.header.Alg]; !ok {
		// none, HS256 and friends end here: a symmetric alg would let
		// anyone who has the public key (everyone) sign.
		return nil, invalid("alg not allowed")
	}
	if !accessTokenType(t.header.Typ) {
		return nil, invalid("typ is not at+jwt or JWT")
	}
	if len(t.header.Crit) > 0 && !bytes.Equal(t.header.Crit, []byte("null")) {
		return nil, invalid("crit header not understood")
	}
	if t.header.Cty != "" {
		return nil, invalid("nested token (cty)")
	}
	if t.payload, err = b64.DecodeString(p); err != nil {
		return nil, invalid("payload is not base64url")
	}
	if t.signature, err = b64.DecodeString(s); err != nil || len(t.signature) == 0 {
		return nil, invalid("signature is not base64url")
	}
	t.signingInput = raw[:len(h)+1+len(p)]
	return &t, nil
}

// accessTokenType accepts RFC 9068's "at+jwt" and the plain "JWT" most
// issuers still send (Keycloak, Entra ID), case-insensitively and with the
// optional "application/" prefix (RFC 7515 4.1.9). No typ is accepted too:
// some issuers omit it. Any other type (an id_token's is JWT too, but a
// logout token, a DPoP proof or a security event is not) is refused;
// id_tokens are kept out by their audience, the client, not the API.
func accessTokenType(typ string) bool {
	t := strings.ToLower(typ)
	t = strings.TrimPrefix(t, "application/")
	return typ == "" || t == "at+jwt" || t == "jwt"
}

// claims are the JWT claims the verifier reads.
type claims struct {
	Iss      string       `json:"iss"`
	Sub      string       `json:"sub"`
	Aud      stringList   `json:"aud"`
	Exp      *numericDate `json:"exp"`
	Nbf      *numericDate `json:"nbf"`
	ClientID string       `json:"client_id"`
	Azp      string       `json:"azp"`
	Scope    string       `json:"scope"`
	Scp      stringList   `json:"scp"`
}

// parseClaims reads the payload of a verified JWS.
func parseClaims(payload []byte) (*claims, error) {
	var c claims
	if err := strictJSON(payload, &c); err != nil {
		return nil, invalid("claims are not a JSON object of the expected types")
	}
	return &c, nil
}

// strictJSON decodes one JSON object and nothing after it.
func strictJSON(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return errors.New("not an object")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
}

// stringList is a claim given as one string or an array of strings: aud
// (RFC 7519 4.1.3), and scp, which Entra ID sends as a space-separated
// string and Okta as an array.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*l = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = stringList{s}
		return nil
	}
	var xs []string
	if err := json.Unmarshal(b, &xs); err != nil {
		return err
	}
	*l = xs
	return nil
}

// numericDate is a JWT NumericDate: seconds since the epoch, possibly with
// a fraction.
type numericDate struct{ t time.Time }

// maxDate is the last second of year 9999; later dates are read as it, so
// that a huge exp cannot overflow time arithmetic.
const maxDate = 253402300799

func (n *numericDate) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("not a date")
	}
	f = min(max(f, -maxDate), maxDate)
	sec, frac := math.Modf(f)
	n.t = time.Unix(int64(sec), int64(frac*1e9))
	return nil
}

// scopes returns the granted scopes: the scope claim (RFC 9068, a
// space-separated string) or else scp, each entry split on spaces.
func (c *claims) scopes() []string {
	if c.Scope != "" {
		return strings.Fields(c.Scope)
	}
	var out []string
	for _, s := range c.Scp {
		out = append(out, strings.Fields(s)...)
	}
	return out
}

// clientID is who the token was issued to: client_id (RFC 9068), else azp
// (Keycloak, Entra ID v1), else sub (client-credentials tokens have the
// client as subject).
func (c *claims) clientID() string {
	switch {
	case c.ClientID != "":
		return c.ClientID
	case c.Azp != "":
		return c.Azp
	}
	return c.Sub
}

// invalidToken is an ErrInvalidToken with its reason, for the log. The
// reason never quotes the token.
type invalidToken struct{ reason string }

func (e *invalidToken) Error() string { return "invalid bearer token: " + e.reason }
func (e *invalidToken) Is(target error) bool {
	return target == ErrInvalidToken
}

func invalid(reason string) error { return &invalidToken{reason} }
