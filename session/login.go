package session

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"time"
)

// LoginStateTTL is how long a started login waits for its callback. It is
// the one constant behind the store entry's TTL, the login cookie's max age
// and the age check at the callback.
const LoginStateTTL = 10 * time.Minute

// MaxLoginRedirect bounds LoginState.Redirect. A longer deep link is not
// kept (the caller lands on "/" instead): a pending login must stay small,
// since an attacker can start as many as the budget allows.
const MaxLoginRedirect = 2 << 10

// Defaults of the pending-login budget (ManagerOptions).
const (
	defaultLoginBytes = 64 << 20
	// clientShare: one client may hold at most this fraction of the budget
	// by default, so it takes that many addresses to fill it.
	clientShare = 16
)

var (
	// ErrLoginsFull means the pending-login budget is spent: answer 503.
	// Pending logins are never evicted to make room, so a flood cannot
	// push out the logins real browsers started.
	ErrLoginsFull = errors.New("session: too many logins pending")
	// ErrClientLogins means this client's share of the budget is spent:
	// answer 429.
	ErrClientLogins = errors.New("session: too many logins pending from this client")
	// ErrLoginInvalid means a callback's state is unknown, used, expired,
	// not started by this browser or for another provider: answer 400.
	ErrLoginInvalid = errors.New("session: login state invalid")
)

// LoginState is what /oauth2/start remembers until the callback: single
// use, bound to the browser that started it, gone after LoginStateTTL.
//
// It is a struct with its own codec (login_codec.go) so that features can
// ride along: to add a field, add it here, give it the next free tag in
// login_codec.go with one line in encode and one case in decode. Decoding
// skips tags it does not know, so replicas of the previous version read the
// rest during a rolling deploy. Every byte counts against the pending-login
// budget; in Redis the whole encoding is sealed (AES-256-GCM) at rest, in the
// memory store it never leaves the process.
type LoginState struct {
	Provider string
	Verifier string // PKCE code_verifier
	Nonce    string
	// Redirect is where the browser lands after the callback; at most
	// MaxLoginRedirect bytes.
	Redirect string
	// CreatedAt is set by BeginLogin from the Manager's clock.
	CreatedAt time.Time
	// Replay is a browser form POST that rides along to be delivered
	// after the login (replay.go); nil for most logins.
	Replay *Replay
	// Connect is the gateway user ("sg_…") that /oauth2/connect links the
	// login's identity to, instead of starting a session (accounts.go).
	Connect string

	// client is whose quota the state was charged to (set by BeginLogin).
	client string
}

// LoginQuota is what a store may spend on one more pending login.
type LoginQuota struct {
	// TTL is how long the state lives.
	TTL time.Duration
	// Budget bounds the bytes of every pending login in the store (across
	// replicas for Redis).
	Budget int64
	// Client, when set, names the client charged; ClientBudget bounds its
	// bytes.
	Client       string
	ClientBudget int64
	// At is the Manager's clock reading; Redis buckets its accounting on it.
	At time.Time
}

// loginOverhead is what a store spends on a pending login beyond its
// bytes: key names, map or dict entries, expiry bookkeeping, the quota
// entries. It is charged with the bytes, so the budget bounds their number
// too.
const loginOverhead = 256

// minClientCharge is the least a pending login costs its client's quota,
// so the client budget also caps how many one address keeps pending
// (ClientBudget / 8 KiB: 512 at the defaults).
const minClientCharge = 8 << 10

// loginCost is what a pending login with data under state is charged,
// overall and to its client.
func loginCost(state string, data []byte) (cost, clientCost int64) {
	cost = int64(len(data) + len(state) + loginOverhead)
	return cost, max(cost, minClientCharge)
}

// checkQuota rejects a login state no store can keep.
func checkQuota(state string, data []byte, q LoginQuota) error {
	switch {
	case state == "" || len(data) == 0:
		return errors.New("login state without key or value")
	case q.TTL <= 0:
		return fmt.Errorf("ttl %v: must be positive", q.TTL)
	case q.Budget <= 0 || (q.Client != "" && q.ClientBudget <= 0):
		return errors.New("login quota: budgets must be positive")
	}
	return nil
}

// quotaClient is the client a login is charged to: an IPv4 address, or an
// IPv6 /64 (one subscriber's usual allocation, which one attacker can
// spread over). An invalid address (a test's pipe) charges no client.
func quotaClient(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return ""
	case a.Is4():
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// LoginBinding binds a login to the browser of one request: it reads the
// login cookie from R and writes it to W. Get one from Cookies.Bind; the
// cookies travel with each call rather than living in the Manager so that a
// configuration reload (new cookie name, domain or secret) applies at once.
type LoginBinding struct {
	c *Cookies
	w http.ResponseWriter
	r *http.Request
}

// Bind returns the LoginBinding of the browser that sent r.
func (c *Cookies) Bind(w http.ResponseWriter, r *http.Request) LoginBinding {
	return LoginBinding{c: c, w: w, r: r}
}

// BeginLogin remembers st under state (the OAuth state parameter the
// provider will echo) for LoginStateTTL, charged to client, and binds it to
// this browser: the login cookie lists the browser's pending states, at
// most MaxPendingLogins, and the oldest beyond that are dropped from the
// cookie and the store. Errors: ErrLoginsFull, ErrClientLogins,
// ErrLoginInvalid (a Redirect longer than MaxLoginRedirect), or
// ErrUnavailable.
func (m *Manager) BeginLogin(ctx context.Context, b LoginBinding, state string, client netip.Addr, st *LoginState) error {
	if b.c == nil {
		return errors.New("session begin login: no login binding")
	}
	if state == "" || st == nil || st.Provider == "" {
		return fmt.Errorf("session begin login: %w: no state or provider", ErrLoginInvalid)
	}
	if len(st.Redirect) > MaxLoginRedirect {
		return fmt.Errorf("session begin login: %w: redirect of %d bytes", ErrLoginInvalid, len(st.Redirect))
	}
	ls := *st
	if err := m.pend(ctx, b, client, state, &ls); err != nil {
		return fmt.Errorf("session begin login: %w", err)
	}
	return nil
}

// pend stores ls under entry for LoginStateTTL, charged to client against
// the pending-login budgets, and lists entry in this browser's login
// cookie, dropping the oldest entries beyond MaxPendingLogins from the
// cookie and the store. Logins and kept forms (replay.go) are both pending
// entries of one cookie, so they share this one bound.
func (m *Manager) pend(ctx context.Context, b LoginBinding, client netip.Addr, entry string, ls *LoginState) error {
	now := m.now()
	ls.CreatedAt = now
	ls.client = quotaClient(client)
	q := LoginQuota{TTL: LoginStateTTL, Budget: m.loginBytes, Client: ls.client, ClientBudget: m.clientLoginBytes, At: now}
	if err := m.store.PutLoginState(ctx, entry, ls.encode(), q); err != nil {
		return err
	}
	pending := append(b.pending(), entry)
	if n := len(pending) - MaxPendingLogins; n > 0 {
		for _, old := range pending[:n] {
			// Best effort: the TTL removes it anyway.
			_ = m.store.DeleteLoginState(ctx, old)
		}
		pending = slices.Clone(pending[n:])
	}
	b.setPending(pending)
	return nil
}

// FinishLogin consumes the login state named state: it must be listed in
// this browser's login cookie, still pending (single use), started for
// provider, and younger than LoginStateTTL on the Manager's clock. The
// login cookie forgets state either way. Errors wrap ErrLoginInvalid (with
// the reason, for the log) or ErrUnavailable.
func (m *Manager) FinishLogin(ctx context.Context, b LoginBinding, provider, state string) (*LoginState, error) {
	if b.c == nil {
		return nil, errors.New("session finish login: no login binding")
	}
	if state == "" {
		return nil, fmt.Errorf("%w: callback without state", ErrLoginInvalid)
	}
	pending := b.pending()
	i := slices.IndexFunc(pending, func(p string) bool {
		return subtle.ConstantTimeCompare([]byte(p), []byte(state)) == 1
	})
	if i < 0 {
		return nil, fmt.Errorf("%w: state not started by this browser", ErrLoginInvalid)
	}
	b.setPending(slices.Delete(slices.Clone(pending), i, i+1))
	data, err := m.store.TakeLoginState(ctx, state)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: state unknown, used or expired", ErrLoginInvalid)
	}
	if err != nil {
		return nil, fmt.Errorf("session finish login: %w", err)
	}
	st, err := decodeLoginState(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLoginInvalid, err)
	}
	if st.Provider != provider {
		return nil, fmt.Errorf("%w: state was started for another provider", ErrLoginInvalid)
	}
	if m.now().Sub(st.CreatedAt) > LoginStateTTL {
		return nil, fmt.Errorf("%w: state expired", ErrLoginInvalid)
	}
	return st, nil
}
