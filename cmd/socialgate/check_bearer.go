package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/socialgate/socialgate/bearer"
	"github.com/socialgate/socialgate/config"
)

// bearerChecks are check-config --connect's checks of the bearer issuers:
// their metadata (when no jwks_url is set) and JWKS, fetched as the
// gateway would on the first token.
func bearerChecks(cfg *config.Config) []func(context.Context) checkResult {
	v, err := newBearer(cfg)
	if err != nil {
		return []func(context.Context) checkResult{func(context.Context) checkResult {
			return checkResult{what: "bearer issuers", err: err}
		}}
	}
	if v == nil {
		return nil
	}
	issuers := v.Issuers()
	slices.Sort(issuers)
	var out []func(context.Context) checkResult
	for _, is := range issuers {
		out = append(out, func(ctx context.Context) checkResult { return checkIssuer(ctx, v, is) })
	}
	return out
}

func checkIssuer(ctx context.Context, v *bearer.Verifier, issuer string) checkResult {
	r := checkResult{what: "bearer issuer " + issuer}
	start := time.Now()
	jwks, n, err := v.CheckIssuer(ctx, issuer)
	if err != nil {
		r.err = err
		return r
	}
	r.detail = fmt.Sprintf("%d signing key(s) at %s in %s", n, jwks, since(start))
	return r
}
