package session

import (
	"context"
	"crypto/tls"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/socialgate/socialgate/session/redistest"
)

func TestRedisTopologyClient(t *testing.T) {
	tlsConf := &tls.Config{ServerName: "redis.internal", MinVersion: tls.VersionTLS12}
	base := RedisOptions{
		Username:     "app",
		Password:     "pw",
		TLS:          tlsConf,
		PoolSize:     7,
		DialTimeout:  3 * time.Second,
		ReadTimeout:  400 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond,
		Secret:       testSecret,
	}
	with := func(f func(o *RedisOptions)) RedisOptions {
		o := base
		f(&o)
		return o
	}
	for _, tc := range []struct {
		name string
		o    RedisOptions
		want string // standalone | sentinel | cluster
	}{
		{"standalone", with(func(o *RedisOptions) { o.Addrs = []string{"127.0.0.1:6379"}; o.DB = 3 }), standalone},
		{"sentinel", with(func(o *RedisOptions) {
			o.Addrs = []string{"127.0.0.1:26379", "127.0.0.1:26380", "127.0.0.1:26381"}
			o.MasterName, o.SentinelUsername, o.SentinelPassword, o.DB = "sgmaster", "watcher", "spw", 2
		}), sentinel},
		{"one sentinel", with(func(o *RedisOptions) { o.Addrs = []string{"127.0.0.1:26379"}; o.MasterName = "m" }), sentinel},
		{"cluster", with(func(o *RedisOptions) { o.Addrs = []string{"127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"} }), cluster},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.o.topology(); got != tc.want {
				t.Errorf("topology: got %s, want %s", got, tc.want)
			}
			uo, err := universalOptions(tc.o)
			if err != nil {
				t.Fatalf("universalOptions: %v", err)
			}
			if tc.want == sentinel {
				fo := uo.Failover()
				if fo.MasterName != tc.o.MasterName || strings.Join(fo.SentinelAddrs, ",") != strings.Join(tc.o.Addrs, ",") {
					t.Errorf("failover: got master %q sentinels %v, want %q %v", fo.MasterName, fo.SentinelAddrs, tc.o.MasterName, tc.o.Addrs)
				}
				if fo.SentinelUsername != tc.o.SentinelUsername || fo.SentinelPassword != tc.o.SentinelPassword {
					t.Errorf("sentinel credentials: got %q/%q, want %q/%q", fo.SentinelUsername, fo.SentinelPassword, tc.o.SentinelUsername, tc.o.SentinelPassword)
				}
			}
			r, err := NewRedis(tc.o)
			if err != nil {
				t.Fatalf("NewRedis: %v", err)
			}
			defer r.Close()
			// What the built client was given, whatever its kind.
			var (
				addrs              []string
				user, pw           string
				db, pool, retries  int
				tlsGot             *tls.Config
				dial, read, write  time.Duration
				kind               string
				ctxTimeout         bool
				redirects, dialRet int
			)
			switch c := r.Client().(type) {
			case *redis.ClusterClient:
				o := c.Options()
				kind, addrs, redirects = cluster, o.Addrs, o.MaxRedirects
				user, pw, pool, retries, tlsGot = o.Username, o.Password, o.PoolSize, o.MaxRetries, o.TLSConfig
				dial, read, write, ctxTimeout, dialRet = o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.ContextTimeoutEnabled, o.DialerRetries
			case *redis.Client:
				o := c.Options()
				// A failover client has no address of its own: it asks
				// the sentinels at every dial.
				kind, addrs = standalone, []string{o.Addr}
				if o.Addr == "FailoverClient" {
					kind, addrs = sentinel, tc.o.Addrs
				}
				user, pw, db, pool, retries, tlsGot = o.Username, o.Password, o.DB, o.PoolSize, o.MaxRetries, o.TLSConfig
				dial, read, write, ctxTimeout, dialRet = o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.ContextTimeoutEnabled, o.DialerRetries
			default:
				t.Fatalf("client: got %T, want *redis.Client or *redis.ClusterClient", c)
			}
			if kind != tc.want {
				t.Errorf("client kind: got %s, want %s", kind, tc.want)
			}
			if strings.Join(addrs, ",") != strings.Join(tc.o.Addrs, ",") {
				t.Errorf("addrs: got %v, want %v", addrs, tc.o.Addrs)
			}
			if user != "app" || pw != "pw" {
				t.Errorf("credentials: got %q/%q, want app/pw", user, pw)
			}
			if tc.want != cluster && db != tc.o.DB {
				t.Errorf("db: got %d, want %d", db, tc.o.DB)
			}
			if tlsGot == nil || tlsGot.ServerName != "redis.internal" {
				t.Errorf("TLS: got %v, want the given config", tlsGot)
			}
			if pool != 7 || dial != 3*time.Second || read != 400*time.Millisecond || write != 500*time.Millisecond {
				t.Errorf("pool, timeouts: got %d %v %v %v, want 7 3s 400ms 500ms", pool, dial, read, write)
			}
			if retries != 1 || dialRet != 1 || !ctxTimeout {
				t.Errorf("retries: got MaxRetries %d DialerRetries %d context timeouts %v, want 1 1 true", retries, dialRet, ctxTimeout)
			}
			if tc.want == cluster && redirects < 1 {
				t.Errorf("MaxRedirects: got %d, want MOVED/ASK followed", redirects)
			}
		})
	}
}

func TestRedisTopologyDefaults(t *testing.T) {
	r, err := NewRedis(RedisOptions{Addrs: []string{"127.0.0.1:7000", "127.0.0.1:7001"}, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	o := r.Client().(*redis.ClusterClient).Options()
	if o.DialTimeout != 2*time.Second || o.ReadTimeout != time.Second || o.WriteTimeout != time.Second {
		t.Errorf("timeouts: got %v %v %v, want 2s 1s 1s", o.DialTimeout, o.ReadTimeout, o.WriteTimeout)
	}
}

func TestRedisTopologyBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    RedisOptions
	}{
		{"no address", RedisOptions{}},
		{"empty address", RedisOptions{Addrs: []string{""}}},
		{"no port", RedisOptions{Addrs: []string{"redis.internal"}}},
		{"one bad among several", RedisOptions{Addrs: []string{"127.0.0.1:7000", "127.0.0.1"}}},
		{"cluster with db", RedisOptions{Addrs: []string{"127.0.0.1:7000", "127.0.0.1:7001"}, DB: 1}},
		{"sentinel password without master", RedisOptions{Addrs: []string{"127.0.0.1:6379"}, SentinelPassword: "x"}},
		{"sentinel user without master", RedisOptions{Addrs: []string{"127.0.0.1:7000", "127.0.0.1:7001"}, SentinelUsername: "x"}},
	} {
		tc.o.Secret = testSecret
		r, err := NewRedis(tc.o)
		if err == nil {
			r.Close()
			t.Errorf("%s: got nil error, want one", tc.name)
		}
	}
}

// tokenChars is the base64url alphabet providers' tokens are drawn from.
const tokenChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func randomToken(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = tokenChars[rand.IntN(len(tokenChars))]
	}
	return string(b)
}

// realisticSession is a Google sign-in with tokens of the sizes Google
// issues: a 180-character access token, a 100-character refresh token, a
// 900-character RS256 id_token; with a Hangul name, as the Manager saves it
// (43-character ID and CSRF token).
func realisticSession(id string, at time.Time) *Session {
	return &Session{
		ID:            id,
		Provider:      "google",
		Subject:       "1" + strconv.Itoa(100000000+rand.IntN(900000000)) + "01234567890",
		Email:         "gildong.hong@gmail.com",
		EmailVerified: true,
		Name:          "홍길동",
		Picture:       "https://lh3.googleusercontent.com/a/ACg8oc" + randomToken(70) + "=s96-c",
		AccessToken:   "ya29." + randomToken(175),
		RefreshToken:  "1//0e" + randomToken(95),
		IDToken:       randomToken(102) + "." + randomToken(454) + "." + randomToken(342),
		TokenExpiry:   at.Add(time.Hour),
		CSRF:          randomToken(43),
		CreatedAt:     at,
		LastSeen:      at,
	}
}

// sessionMemoryBudget is what one session may cost in Redis, its share of
// the user index included.
const sessionMemoryBudget = 4096

// TestRedisMemoryPerSession measures what a realistic session costs a
// real Redis: MEMORY USAGE of its key plus its user index, and the growth
// of used_memory (which also counts the keyspace and expiry dictionaries).
func TestRedisMemoryPerSession(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c := srv.Client()
	r := newRedisOn(t, c, testSecret)
	usedMemory := func() int64 {
		t.Helper()
		info, err := c.Info(ctx, "memory").Result()
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.ParseInt(infoValue(info, "used_memory"), 10, 64)
		if err != nil {
			t.Fatalf("INFO memory: used_memory: %v", err)
		}
		return n
	}

	const n = 500
	before := usedMemory()
	var keys, index int64
	var sealed int
	for i := range n {
		s := realisticSession(newToken(), time.Now())
		if err := r.Save(ctx, s, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		k, err := c.MemoryUsage(ctx, r.sessionKey(s.ID), 0).Result()
		if err != nil {
			t.Fatal(err)
		}
		u, err := c.MemoryUsage(ctx, r.userKey(s.User()), 0).Result()
		if err != nil {
			t.Fatal(err)
		}
		keys, index = keys+k, index+u
		if i == 0 {
			sealed = len(c.HGet(ctx, r.sessionKey(s.ID), fieldData).Val())
		}
	}
	growth := (usedMemory() - before) / n
	perKey, perIndex := keys/n, index/n
	t.Logf("one session per user: session key %d B (sealed data %d B) + user index %d B = %d B/session; used_memory growth %d B/session",
		perKey, sealed, perIndex, perKey+perIndex, growth)

	// A user signed in on three browsers shares one index.
	s0 := realisticSession("", time.Now())
	for range 3 {
		s := *s0
		s.ID = newToken()
		if err := r.Save(ctx, &s, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	shared := c.MemoryUsage(ctx, r.userKey(s0.User()), 0).Val()
	t.Logf("three sessions per user: user index %d B, %d B/session", shared, shared/3)

	if perKey < int64(sealed) {
		t.Errorf("session key: got %d B, less than its %d B of sealed data: not measured", perKey, sealed)
	}
	if total := perKey + perIndex; total > sessionMemoryBudget || growth > sessionMemoryBudget {
		t.Errorf("memory per session: got %d B by MEMORY USAGE, %d B by used_memory; want at most %d", total, growth, sessionMemoryBudget)
	}
}

// infoValue returns the value of key in an INFO reply ("key:value" lines).
func infoValue(info, key string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			return v
		}
	}
	return ""
}
