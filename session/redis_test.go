package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/socialgate/socialgate/session/redistest"
)

var (
	testSecret  = []byte("0123456789abcdef0123456789abcdef")
	otherSecret = []byte("fedcba9876543210fedcba9876543210")
)

// miniClock is a go-redis hook that moves miniredis's clock to the test's
// fake clock before every command, so key TTLs follow the fake clock.
type miniClock struct {
	mr  *miniredis.Miniredis
	now func() time.Time

	mu   sync.Mutex
	last time.Time
}

func (h *miniClock) sync() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := h.now(); n.After(h.last) {
		h.mr.FastForward(n.Sub(h.last))
		h.last = n
	}
}

func (h *miniClock) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *miniClock) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.sync()
		return next(ctx, cmd)
	}
}

func (h *miniClock) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.sync()
		return next(ctx, cmds)
	}
}

// newMiniRedis returns a Redis store on a fresh miniredis whose TTLs follow
// now, and the raw client.
func newMiniRedis(t testing.TB, now func() time.Time) (*Redis, *redis.Client) {
	t.Helper()
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { c.Close() })
	if now != nil {
		c.AddHook(&miniClock{mr: mr, now: now, last: now()})
	}
	r, err := NewRedis(RedisOptions{Client: c, Secret: testSecret})
	if err != nil {
		t.Fatalf("NewRedis: %v", err)
	}
	return r, c
}

func TestRedisStoreMiniredis(t *testing.T) {
	testStore(t, func(t *testing.T, now func() time.Time) Store {
		r, _ := newMiniRedis(t, now)
		return r
	})
}

// wallRedis is a Redis store on a real server, whose TTLs run on the wall
// clock.
type wallRedis struct{ *Redis }

func (wallRedis) wallClock() {}

func TestRedisStoreReal(t *testing.T) {
	srv := redistest.Start(t)
	var n atomic.Int64
	testStore(t, func(t *testing.T, _ func() time.Time) Store {
		// One server, a prefix per subtest: DeleteAll must stay inside it.
		r, err := NewRedis(RedisOptions{
			Addrs:     []string{srv.Addr},
			Secret:    testSecret,
			KeyPrefix: fmt.Sprintf("t%d:", n.Add(1)),
		})
		if err != nil {
			t.Fatalf("NewRedis: %v", err)
		}
		t.Cleanup(func() { r.Close() })
		return wallRedis{r}
	})
}

// backends runs f against miniredis and a real redis-server.
func backends(t *testing.T, f func(t *testing.T, c redis.UniversalClient)) {
	t.Run("miniredis", func(t *testing.T) {
		_, c := newMiniRedis(t, nil)
		f(t, c)
	})
	t.Run("redis-server", func(t *testing.T) {
		f(t, redistest.Start(t).Client())
	})
}

func newRedisOn(t *testing.T, c redis.UniversalClient, secret []byte, previous ...[]byte) *Redis {
	t.Helper()
	r, err := NewRedis(RedisOptions{Client: c, Secret: secret, PreviousSecrets: previous})
	if err != nil {
		t.Fatalf("NewRedis: %v", err)
	}
	return r
}

func TestRedisEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	backends(t, func(t *testing.T, c redis.UniversalClient) {
		r := newRedisOn(t, c, testSecret)
		s := sampleSession("sid", "3456789012", time.Now())
		if err := r.Save(ctx, s, time.Hour); err != nil {
			t.Fatal(err)
		}
		st := &LoginState{Provider: "kakao", Verifier: "pkce-verifier-secret", Redirect: "/비밀/경로"}
		if err := r.PutLoginState(ctx, "state1", encLogin(st), LoginQuota{TTL: time.Minute, Budget: 1 << 20, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		h, err := c.HGetAll(ctx, "socialgate:s:sid").Result()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := c.Get(ctx, "socialgate:ls:state1").Bytes()
		if err != nil {
			t.Fatal(err)
		}
		blob := []byte(h["d"] + h["l"] + h["u"])
		for _, secret := range []string{s.Email, s.Name, s.AccessToken, s.RefreshToken, s.IDToken, s.CSRF} {
			if bytes.Contains(blob, []byte(secret)) {
				t.Errorf("session hash holds %q in plaintext", secret)
			}
		}
		for _, secret := range []string{st.Verifier, st.Redirect} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("login state holds %q in plaintext", secret)
			}
		}
		if got, want := h["u"], "kakao:3456789012"; got != want {
			t.Errorf("user field: got %q, want %q", got, want)
		}
	})
}

func TestRedisKeyRotation(t *testing.T) {
	ctx := context.Background()
	_, c := newMiniRedis(t, nil)
	before := newRedisOn(t, c, testSecret)
	after := newRedisOn(t, c, otherSecret, testSecret)
	dropped := newRedisOn(t, c, otherSecret)

	if err := before.Save(ctx, sampleSession("old", "1", time.Now()), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := before.PutLoginState(ctx, "st", encLogin(&LoginState{Provider: "naver"}), LoginQuota{TTL: time.Minute, Budget: 1 << 20, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := after.Load(ctx, "old"); err != nil {
		t.Errorf("Load with the old secret in PreviousSecrets: %v", err)
	}
	if _, err := dropped.Load(ctx, "old"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load with the old secret dropped: got %v, want ErrNotFound", err)
	}
	if _, err := after.TakeLoginState(ctx, "st"); err != nil {
		t.Errorf("TakeLoginState with the old secret in PreviousSecrets: %v", err)
	}
	// New writes use the new secret only.
	if err := after.Save(ctx, sampleSession("new", "1", time.Now()), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := before.Load(ctx, "new"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load of a new value with only the old secret: got %v, want ErrNotFound", err)
	}
}

func TestRedisMovedValueDoesNotOpen(t *testing.T) {
	ctx := context.Background()
	r, c := newMiniRedis(t, nil)
	if err := r.Save(ctx, sampleSession("victim", "1", time.Now()), time.Hour); err != nil {
		t.Fatal(err)
	}
	h := c.HGetAll(ctx, "socialgate:s:victim").Val()
	if err := c.HSet(ctx, "socialgate:s:attacker", h).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Load(ctx, "attacker"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load of a value moved to another ID: got %v, want ErrNotFound", err)
	}
	// A session value moved under a login-state key does not open either.
	if err := c.Set(ctx, "socialgate:ls:victim", h["d"], time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.TakeLoginState(ctx, "victim"); !errors.Is(err, ErrNotFound) {
		t.Errorf("TakeLoginState of a moved session value: got %v, want ErrNotFound", err)
	}
}

func TestRedisTouchLeavesNoStrayKey(t *testing.T) {
	ctx := context.Background()
	r, c := newMiniRedis(t, nil)
	if err := r.Touch(ctx, "gone", time.Now(), time.Hour); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Touch: got %v, want ErrNotFound", err)
	}
	if n := c.Exists(ctx, "socialgate:s:gone").Val(); n != 0 {
		t.Errorf("Touch of a missing session left %d key(s) behind", n)
	}
}

func TestRedisTTLs(t *testing.T) {
	ctx := context.Background()
	backends(t, func(t *testing.T, c redis.UniversalClient) {
		r := newRedisOn(t, c, testSecret)
		s := sampleSession("sid", "1", time.Now())
		if err := r.Save(ctx, s, 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		checkTTL := func(key string, lo, hi time.Duration) {
			t.Helper()
			if got := c.PTTL(ctx, key).Val(); got < lo || got > hi {
				t.Errorf("PTTL %s: got %v, want within [%v, %v]", key, got, lo, hi)
			}
		}
		// The index must outlive every session it lists.
		checkTTL("socialgate:s:sid", 9*time.Minute, 10*time.Minute)
		checkTTL("socialgate:u:kakao:1", 10*time.Minute-time.Second, 11*time.Minute)
		if err := r.Touch(ctx, "sid", time.Now(), 20*time.Minute); err != nil {
			t.Fatal(err)
		}
		checkTTL("socialgate:s:sid", 19*time.Minute, 20*time.Minute)
		checkTTL("socialgate:u:kakao:1", 20*time.Minute-time.Second, 21*time.Minute)
		// Both were set to 20m in one Touch; the two reads are a moment
		// apart, so allow that moment.
		if s, u := c.PTTL(ctx, "socialgate:s:sid").Val(), c.PTTL(ctx, "socialgate:u:kakao:1").Val(); u+time.Second < s {
			t.Errorf("index PTTL %v shorter than session PTTL %v", u, s)
		}
	})
}

func TestRedisRealExpiry(t *testing.T) {
	ctx := context.Background()
	r := newRedisOn(t, redistest.Start(t).Client(), testSecret)
	if err := r.Save(ctx, sampleSession("sid", "1", time.Now()), 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// Poll: this only fails if Redis never expires the key.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := r.Load(ctx, "sid")
		if errors.Is(err, ErrNotFound) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Load 10s after a 100ms TTL: got %v, want ErrNotFound", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRedisDeleteAllKeepsOtherPrefixes(t *testing.T) {
	ctx := context.Background()
	_, c := newMiniRedis(t, nil)
	mine, err := NewRedis(RedisOptions{Client: c, Secret: testSecret, KeyPrefix: "a*[x]:"})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := NewRedis(RedisOptions{Client: c, Secret: testSecret, KeyPrefix: "ab:"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Redis{mine, theirs} {
		if err := r.Save(ctx, sampleSession("sid", "1", time.Now()), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := mine.DeleteAll(ctx); err != nil || n != 1 {
		t.Errorf("DeleteAll: got %d, %v; want 1, nil", n, err)
	}
	if _, err := theirs.Load(ctx, "sid"); err != nil {
		t.Errorf("another prefix's session after DeleteAll: %v", err)
	}
	if n := c.Exists(ctx, "a*[x]:u:kakao:1").Val(); n != 0 {
		t.Errorf("user index after DeleteAll: got %d keys, want 0", n)
	}
}

func TestRedisOutage(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	r, err := NewRedis(RedisOptions{Addrs: []string{srv.Addr}, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const id = "secret-session-id-value"
	s := sampleSession(id, "1", time.Now())
	if err := r.Save(ctx, s, time.Hour); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	ops := map[string]error{}
	_, ops["Load"] = r.Load(ctx, id)
	ops["Save"] = r.Save(ctx, s, time.Hour)
	ops["Touch"] = r.Touch(ctx, id, time.Now(), time.Hour)
	ops["Delete"] = r.Delete(ctx, id)
	_, ops["ListUser"] = r.ListUser(ctx, s.User())
	_, ops["DeleteUser"] = r.DeleteUser(ctx, s.User())
	_, ops["DeleteAll"] = r.DeleteAll(ctx)
	ops["PutLoginState"] = r.PutLoginState(ctx, "st", encLogin(&LoginState{Provider: "p"}), LoginQuota{TTL: time.Minute, Budget: 1 << 20, At: time.Now()})
	_, ops["ListSID"] = r.ListSID(ctx, "kakao", "sid")
	_, ops["ListUsers"] = r.ListUsers(ctx)
	_, ops["TakeLoginState"] = r.TakeLoginState(ctx, "st")
	ops["DeleteLoginState"] = r.DeleteLoginState(ctx, "st")
	ops["Ping"] = r.Ping(ctx)
	for op, err := range ops {
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
			t.Errorf("%s while down: got %v, want ErrUnavailable", op, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, id) || strings.Contains(msg, s.AccessToken) {
			t.Errorf("%s error leaks a value: %q", op, msg)
		}
	}

	srv.Restart()
	// The same Store recovers; the pool reconnects on its own.
	deadline := time.Now().Add(10 * time.Second)
	for r.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("Ping still failing 10s after Restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := r.Save(ctx, s, time.Hour); err != nil {
		t.Fatalf("Save after Restart: %v", err)
	}
	if _, err := r.Load(ctx, id); err != nil {
		t.Errorf("Load after Restart: %v", err)
	}
}

func TestNewRedisOptions(t *testing.T) {
	long := bytes.Repeat([]byte("k"), 32)
	for _, tc := range []struct {
		name    string
		o       RedisOptions
		wantErr bool
	}{
		{"ok", RedisOptions{Addrs: []string{"127.0.0.1:6379"}, Secret: long}, false},
		{"sentinel with db", RedisOptions{Addrs: []string{"127.0.0.1:26379"}, MasterName: "m", DB: 2, Secret: long}, false},
		{"no secret", RedisOptions{Addrs: []string{"127.0.0.1:6379"}}, true},
		{"short secret", RedisOptions{Addrs: []string{"127.0.0.1:6379"}, Secret: []byte("short")}, true},
		{"short previous secret", RedisOptions{Addrs: []string{"127.0.0.1:6379"}, Secret: long, PreviousSecrets: [][]byte{[]byte("x")}}, true},
		{"no address", RedisOptions{Secret: long}, true},
		{"cluster with db", RedisOptions{Addrs: []string{"127.0.0.1:7000", "127.0.0.1:7001"}, DB: 1, Secret: long}, true},
	} {
		r, err := NewRedis(tc.o)
		if got := err != nil; got != tc.wantErr {
			t.Errorf("%s: got error %v, want error %v", tc.name, err, tc.wantErr)
		}
		if r != nil {
			r.Close()
		}
	}
}

func TestRedisCloseKeepsCallerClient(t *testing.T) {
	r, c := newMiniRedis(t, nil)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Errorf("caller's client after Close: %v", err)
	}
}
