package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxBody bounds what we read from any provider response.
const maxBody = 1 << 20

// Revoke asks the provider to end the grant (Google, Naver, OpenID Connect
// issuers, GitHub) or log the token out (Kakao). Tokens that are already invalid count as revoked. It is a
// no-op when t has no token, or when there is no revocation endpoint: an
// overridden provider (mirror, fake) without Endpoints.RevokeURL, or a
// discovered issuer that names none.
func (p *Provider) Revoke(ctx context.Context, t Tokens) error {
	if t.AccessToken == "" && t.RefreshToken == "" {
		return nil
	}
	if p.spec.goth != nil {
		// goth has no revocation; a goth kind may bring its own, which
		// finds its URL from the kind's endpoints.
		if p.spec.revoke == nil {
			return nil
		}
		return p.spec.revoke(ctx, p, nil, t)
	}
	res, err := p.resolve(ctx)
	if err != nil {
		return err
	}
	if res.ep.RevokeURL == "" || p.spec.revoke == nil {
		return nil
	}
	return p.spec.revoke(ctx, p, res, t)
}

// postForm POSTs form (may be nil) with an optional Bearer token.
func (p *Provider) postForm(ctx context.Context, u string, form url.Values, bearer string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return p.do(ctx, req)
}

// do sends req with the per-call timeout and returns the status and at most
// maxBody bytes of the body.
func (p *Provider) do(ctx context.Context, req *http.Request) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	resp, err := p.client.Do(req.WithContext(ctx))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, fmt.Errorf("reading response: %w", err)
	}
	return resp.StatusCode, body, nil
}

// errorf wraps sentinel as "{provider}: {op}: {sentinel}: {detail}". The
// detail must hold no secrets and no response bodies.
func (p *Provider) errorf(op string, sentinel error, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %w: %s", p.id, op, sentinel, fmt.Sprintf(format, args...))
}

// fail wraps sentinel and cause. Transport failures (their text names only
// the method and URL) are wrapped as they are; any other cause may quote a
// response body, so only a short cleaned form of its text is kept.
func (p *Provider) fail(op string, sentinel, cause error) error {
	if isTransport(cause) {
		return fmt.Errorf("%s: %s: %w: %w", p.id, op, sentinel, cause)
	}
	return p.errorf(op, sentinel, "%s", clean(cause.Error()))
}

func isTransport(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
