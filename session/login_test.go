package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/session/redistest"
)

// loginManager is a Manager on store and clk, and its cookies.
type loginManager struct {
	*Manager
	cookies *Cookies
}

func newLoginManager(t *testing.T, store Store, clk *fakeClock, budget, share int64) loginManager {
	t.Helper()
	m, err := NewManager(ManagerOptions{Store: store, Now: clk.Now,
		PendingLoginBytes: budget, ClientPendingLoginBytes: share})
	if err != nil {
		t.Fatal(err)
	}
	return loginManager{m, newTestCookies(t, CookieOptions{Now: clk.Now})}
}

// begin starts a login from the browser whose cookies are in jar and
// returns the login cookie it was given.
func begin(t *testing.T, m loginManager, jar []*http.Cookie, state string, client netip.Addr, st *LoginState) ([]*http.Cookie, error) {
	t.Helper()
	w := httptest.NewRecorder()
	err := m.BeginLogin(context.Background(), m.cookies.Bind(w, requestWith(jar...)), state, client, st)
	if err != nil {
		return jar, err
	}
	return w.Result().Cookies(), nil
}

func finish(m loginManager, jar []*http.Cookie, provider, state string) (*LoginState, []*http.Cookie, error) {
	w := httptest.NewRecorder()
	st, err := m.FinishLogin(context.Background(), m.cookies.Bind(w, requestWith(jar...)), provider, state)
	return st, w.Result().Cookies(), err
}

// TestLoginLifecycle: a login finishes once, only in the browser that
// started it, only for its provider, and only within LoginStateTTL on the
// Manager's clock.
func TestLoginLifecycle(t *testing.T) {
	addr := netip.MustParseAddr("203.0.113.9")
	stores := map[string]func(t *testing.T, clk *fakeClock) Store{
		"memory": func(t *testing.T, clk *fakeClock) Store {
			m := NewMemory(MemoryOptions{Now: clk.Now})
			t.Cleanup(func() { m.Close() })
			return m
		},
		"miniredis": func(t *testing.T, clk *fakeClock) Store { r, _ := newMiniRedis(t, clk.Now); return r },
	}
	for name, mk := range stores {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			m := newLoginManager(t, mk(t, clk), clk, 0, 0)
			want := &LoginState{Provider: "kakao", Verifier: "v", Nonce: "n", Redirect: "/위키?q=한글&x=1"}
			jar, err := begin(t, m, nil, "state-1", addr, want)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := finish(m, nil, "kakao", "state-1"); !errors.Is(err, ErrLoginInvalid) {
				t.Errorf("another browser (no login cookie): got %v, want ErrLoginInvalid", err)
			}
			if _, _, err := finish(m, jar, "naver", "state-1"); !errors.Is(err, ErrLoginInvalid) {
				t.Errorf("another provider: got %v, want ErrLoginInvalid", err)
			}
			// The state was consumed by the provider mismatch: single use.
			jar, _ = begin(t, m, nil, "state-2", addr, want)
			clk.Advance(LoginStateTTL - time.Second)
			got, after, err := finish(m, jar, "kakao", "state-2")
			if err != nil {
				t.Fatalf("within the TTL: %v", err)
			}
			if got.Redirect != want.Redirect || got.Verifier != "v" || got.Nonce != "n" || !got.CreatedAt.Equal(clk.Now().Add(-LoginStateTTL+time.Second)) {
				t.Errorf("got %+v, want %+v created at the clock's time", got, want)
			}
			if len(after) != 1 || after[0].MaxAge != -1 {
				t.Errorf("login cookie after the last pending login: %v, want it cleared", after)
			}
			if _, _, err := finish(m, jar, "kakao", "state-2"); !errors.Is(err, ErrLoginInvalid) {
				t.Errorf("second use: got %v, want ErrLoginInvalid", err)
			}
			jar, _ = begin(t, m, nil, "state-3", addr, want)
			clk.Advance(LoginStateTTL + time.Second)
			if _, _, err := finish(m, jar, "kakao", "state-3"); !errors.Is(err, ErrLoginInvalid) {
				t.Errorf("past the TTL: got %v, want ErrLoginInvalid", err)
			}
			long := *want
			long.Redirect = "/" + strings.Repeat("a", MaxLoginRedirect)
			if _, err := begin(t, m, nil, "state-4", addr, &long); !errors.Is(err, ErrLoginInvalid) {
				t.Errorf("redirect over MaxLoginRedirect: got %v, want ErrLoginInvalid", err)
			}
		})
	}
}

// TestLoginOneBrowserKeepsNewest: past MaxPendingLogins one browser's
// oldest logins are forgotten (cookie and store), never another browser's.
func TestLoginOneBrowserKeepsNewest(t *testing.T) {
	clk := newClock()
	mem := NewMemory(MemoryOptions{Now: clk.Now})
	defer mem.Close()
	m := newLoginManager(t, mem, clk, 0, 0)
	addr := netip.MustParseAddr("2001:db8::1")
	other, err := begin(t, m, nil, "other", addr, &LoginState{Provider: "kakao"})
	if err != nil {
		t.Fatal(err)
	}
	var jar []*http.Cookie
	for i := range MaxPendingLogins + 3 {
		if jar, err = begin(t, m, jar, fmt.Sprint("mine-", i), addr, &LoginState{Provider: "kakao"}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range MaxPendingLogins + 3 {
		_, _, err := finish(m, jar, "kakao", fmt.Sprint("mine-", i))
		if want := i >= 3; (err == nil) != want {
			t.Errorf("mine-%d: got %v, want finished %v", i, err, want)
		}
	}
	if _, _, err := finish(m, other, "kakao", "other"); err != nil {
		t.Errorf("the other browser's login: %v", err)
	}
}

// TestLoginFloodBounded is issue 8's 130,000 /oauth2/start requests with an
// 8 KB rd, scaled down with the budget so it runs in a second: whatever
// the flood, the bytes pending stay within the budget, every address is
// held to its share, nothing pending is evicted, and a login started before
// the flood still finishes.
func TestLoginFloodBounded(t *testing.T) {
	const budget, share, flood = 512 << 10, 32 << 10, 2000
	stores := map[string]func(t *testing.T, clk *fakeClock) (Store, func() int64){
		"memory": func(t *testing.T, clk *fakeClock) (Store, func() int64) {
			m := NewMemory(MemoryOptions{Now: clk.Now})
			t.Cleanup(func() { m.Close() })
			return m, m.pendingLoginBytes
		},
		"miniredis": func(t *testing.T, clk *fakeClock) (Store, func() int64) {
			r, c := newMiniRedis(t, clk.Now)
			return r, func() int64 {
				// What Redis holds: every pending state's value and key.
				var n int64
				for _, k := range c.Keys(context.Background(), "socialgate:ls:*").Val() {
					n += c.StrLen(context.Background(), k).Val() + int64(len(k))
				}
				return n
			}
		},
		"redis-server": func(t *testing.T, clk *fakeClock) (Store, func() int64) {
			if testing.Short() {
				t.Skip("starts redis-server")
			}
			srv := redistest.Start(t)
			r, err := NewRedis(RedisOptions{Addrs: []string{srv.Addr}, Secret: testSecret})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			ctx := context.Background()
			base := r.c.Info(ctx, "memory").Val()
			used := func(info string) int64 {
				var n int64
				for _, l := range strings.Split(info, "\r\n") {
					if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
						fmt.Sscan(v, &n)
					}
				}
				return n
			}
			start := used(base)
			// Redis's own bytes: what the flood added to used_memory.
			return r, func() int64 { return used(r.c.Info(ctx, "memory").Val()) - start }
		},
	}
	for name, mk := range stores {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			store, pending := mk(t, clk)
			m := newLoginManager(t, store, clk, budget, share)
			victim, err := begin(t, m, nil, "victim", netip.MustParseAddr("192.0.2.1"), &LoginState{Provider: "kakao", Redirect: "/보고서"})
			if err != nil {
				t.Fatal(err)
			}
			// The largest login state BeginLogin accepts.
			big := &LoginState{Provider: "kakao", Verifier: strings.Repeat("v", 43), Nonce: strings.Repeat("n", 43),
				Redirect: "/" + strings.Repeat("a", MaxLoginRedirect-1)}
			results := map[string]int{}
			for i := range flood {
				// Half the flood from one address, half from fresh ones.
				addr := netip.MustParseAddr("198.51.100.7")
				if i%2 == 1 {
					addr = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
				}
				_, err := begin(t, m, nil, fmt.Sprintf("flood-%05d", i), addr, big)
				switch {
				case err == nil:
					results["ok"]++
				case errors.Is(err, ErrLoginsFull):
					results["full"]++
				case errors.Is(err, ErrClientLogins):
					results["client"]++
				default:
					t.Fatalf("start %d: %v", i, err)
				}
				clk.Advance(time.Millisecond)
			}
			t.Logf("%d starts: %v; %d bytes pending", flood, results, pending())
			if results["ok"] == 0 || results["ok"] > budget/MaxLoginRedirect || results["full"] == 0 || results["client"] == 0 {
				t.Errorf("results %v: want between 1 and %d accepted, then both refusals", results, budget/MaxLoginRedirect)
			}
			// Redis's memory has overheads of its own (allocator, dict,
			// expiry entries): allow twice the budget, far below the
			// flood's 4000 × 2 KB.
			if got := pending(); got > 2*budget {
				t.Errorf("%d bytes pending after the flood, want at most %d", got, 2*budget)
			}
			if _, _, err := finish(m, victim, "kakao", "victim"); err != nil {
				t.Errorf("the login started before the flood: %v", err)
			}
		})
	}
}

func TestLoginCodec(t *testing.T) {
	st := &LoginState{Provider: "kakao", Verifier: "v", Nonce: "n", Redirect: "/위키", CreatedAt: time.Unix(1767225600, 5), client: "192.0.2.1", Connect: "sg_AAAAAAAAAAAAAAAAAAAAAA"}
	b := st.encode()
	got, err := decodeLoginState(b)
	if err != nil || *got != *st {
		t.Fatalf("round trip: got %+v, %v; want %+v", got, err, st)
	}
	// A field from a newer version (tag 40) is skipped.
	newer := appendLoginField(append([]byte{}, b...), 40, "replayed body")
	if got, err := decodeLoginState(newer); err != nil || *got != *st {
		t.Errorf("unknown tag: got %+v, %v; want it skipped", got, err)
	}
	for name, bad := range map[string][]byte{
		"empty":           nil,
		"unknown version": append([]byte{0x7f}, b[1:]...),
		"truncated":       b[:len(b)-1],
		"duplicate tag":   appendLoginField(append([]byte{}, b...), tagProvider, "naver"),
		"bad time":        appendLoginField([]byte{loginCodecVersion}, tagCreatedAt, "\xff"),
		"length too long": {loginCodecVersion, tagProvider, 0xff, 0x01},
	} {
		if _, err := decodeLoginState(bad); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
}

func FuzzDecodeLoginState(f *testing.F) {
	f.Add((&LoginState{Provider: "kakao", Redirect: "/x", CreatedAt: time.Unix(1, 0), client: "2001:db8::/64"}).encode())
	f.Add([]byte{loginCodecVersion})
	f.Add([]byte{loginCodecVersion, 40, 1, 'x'})
	f.Add((&LoginState{Provider: "kakao", Redirect: "/f", Replay: &Replay{URL: "/f", ContentType: "multipart/form-data; boundary=b",
		Body: []byte("--b\r\n\x00\xff"), SessionID: "s"}}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeLoginState(b)
		if err != nil {
			return
		}
		// What decodes survives a round trip unchanged.
		again, err := decodeLoginState(st.encode())
		if err != nil || again.Provider != st.Provider || again.Redirect != st.Redirect ||
			again.Verifier != st.Verifier || again.Nonce != st.Nonce || again.client != st.client || again.Connect != st.Connect ||
			!again.CreatedAt.Equal(st.CreatedAt) || !sameReplay(again.Replay, st.Replay) {
			t.Fatalf("decode(%x) = %+v re-encodes to %+v, %v", b, st, again, err)
		}
	})
}

// sameReplay compares kept forms, an empty one being the same as none.
func sameReplay(a, b *Replay) bool {
	if a == nil {
		a = &Replay{}
	}
	if b == nil {
		b = &Replay{}
	}
	return a.URL == b.URL && a.ContentType == b.ContentType && a.SessionID == b.SessionID && string(a.Body) == string(b.Body)
}
