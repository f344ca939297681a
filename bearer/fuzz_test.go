package bearer

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseToken feeds arbitrary bytes to the token parser and the claim
// checks: no panic, and anything that parses has an allowed alg, an
// access-token typ and a signing input that is exactly the token's first
// two parts.
func FuzzParseToken(f *testing.F) {
	for _, s := range []string{
		"eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0.eyJpc3MiOiJodHRwczovL3Nzby5leGFtcGxlLmNvbSIsImF1ZCI6WyJ3aWtpLWFwaSJdLCJleHAiOjE5MDAwMDAwMDAsImNsaWVudF9pZCI6ImJhdGNoIiwic2NvcGUiOiJ3aWtpLnJlYWQifQ.c2ln",
		"eyJhbGciOiJub25lIn0.e30.",
		"eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
		"eyJhbGciOiJFUzI1NiIsImNyaXQiOlsiYjY0Il19.e30.c2ln",
		"a.b.c", "..", "", "e30.e30.e30", "eyJhbGciOiJFZERTQSIsImN0eSI6IkpXVCJ9.e30.c2ln",
	} {
		f.Add(s)
	}
	v := &Verifier{leeway: 30 * time.Second}
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, raw string) {
		j, err := parseJWS(raw)
		if err != nil {
			return
		}
		if _, ok := algs[j.header.Alg]; !ok {
			t.Fatalf("alg %q parsed", j.header.Alg)
		}
		if !accessTokenType(j.header.Typ) {
			t.Fatalf("typ %q parsed", j.header.Typ)
		}
		if !strings.HasPrefix(raw, j.signingInput+".") || strings.Count(j.signingInput, ".") != 1 {
			t.Fatalf("signing input %q of %q", j.signingInput, raw)
		}
		c, err := parseClaims(j.payload)
		if err != nil {
			return
		}
		tok, err := v.check(c, now)
		if err != nil {
			return
		}
		if tok.ClientID == "" || len(tok.Audience) == 0 || !now.Before(tok.validUntil) {
			t.Fatalf("accepted claims without client, audience or future exp: %+v", tok)
		}
		if c.Nbf != nil && now.Add(v.leeway).Before(c.Nbf.t) {
			t.Fatalf("accepted before nbf")
		}
	})
}
