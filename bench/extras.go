package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// extras measures what the rounds do not: /oauth2/auth, full logins per
// second, RSS with many sessions in memory, and Redis memory per session.
func (e *env) extras(ctx context.Context, out io.Writer) error {
	fmt.Fprintln(out, "\nforward-auth (GET /oauth2/auth, 202), same load:")
	for _, kind := range []string{"memory", "redis", "redis-cache"} {
		r, err := e.measureForwardAuth(ctx, kind)
		if err != nil {
			return fmt.Errorf("forward-auth %s: %w", kind, err)
		}
		fmt.Fprintf(out, "  %-12s %7.0f req/s  p50 %s  p99 %s  CPU %.1f µs/check%s  errors %d\n",
			kind, r.rps(), ms(r.p50), ms(r.p99), us(r.cpuPerReq(0)), redisNote(r), r.errs)
	}

	r, err := e.measureLogins(ctx)
	if err != nil {
		return fmt.Errorf("logins: %w", err)
	}
	fmt.Fprintf(out, "\nfull logins (start → fake Kakao → callback → first proxied GET), redis store, %d browsers:\n", e.c.loginConns)
	fmt.Fprintf(out, "  %.0f logins/s  p50 %s  p99 %s  gateway CPU %.0f µs/login%s  errors %d\n",
		r.rps(), ms(r.p50), ms(r.p99), us(r.cpuPerReq(0)), redisNote(r), r.errs)

	fmt.Fprintf(out, "\nmemory store with %d sessions made through the Manager, GETs spread over all of them\n", e.c.sessions)
	fmt.Fprintln(out, "(the peak is reset once they exist: creating them in one burst leaves garbage a real gateway would not have):")
	for _, tokens := range []string{"mix", "google"} {
		r, setup, err := e.measureManySessions(ctx, tokens)
		if err != nil {
			return fmt.Errorf("rss: %w", err)
		}
		what, budget := "Kakao/Naver/Google in turn", fmt.Sprintf(" (budget %s: %s)", mib(budgetRSS), verdict(r.hwm < budgetRSS))
		if tokens == "google" {
			what, budget = "all Google-sized, worst case", ""
		}
		fmt.Fprintf(out, "  %-30s peak RSS while serving %s%s, after %s, creating peaked at %s; %.0f req/s, CPU %.1f µs/req, p99 %s, errors %d\n",
			what+":", mib(r.hwm), budget, mib(r.rss), mib(setup), r.rps(), us(r.cpuPerReq(0)), ms(r.p99), r.errs)
	}

	return e.measureRedisMemory(ctx, out)
}

func redisNote(r result) string {
	if len(r.cpu) < 2 {
		return ""
	}
	return fmt.Sprintf(" (+redis-server %.1f µs)", us(r.cpuPerReq(1)))
}

func (e *env) withRedisPID(kind string, l *load) {
	if strings.HasPrefix(kind, "redis") {
		l.pids = append(l.pids, e.redis.Process.Pid)
	}
}

func (e *env) measureForwardAuth(ctx context.Context, kind string) (result, error) {
	p, err := e.startTarget(kind)
	if err != nil {
		return result{}, err
	}
	defer p.stop()
	base := "http://" + p.addr
	cookie, err := login(ctx, &http.Client{Timeout: requestTimeout}, base)
	if err != nil {
		return result{}, err
	}
	l := e.newLoad(base+"/oauth2/auth", http.StatusAccepted, p.pid())
	l.cookies = []string{cookie}
	e.withRedisPID(kind, &l)
	return l.run(ctx)
}

// measureLogins runs whole sign-ins back to back from loginConns browsers,
// each login with a fresh cookie jar.
func (e *env) measureLogins(ctx context.Context) (result, error) {
	p, err := e.startTarget("redis")
	if err != nil {
		return result{}, err
	}
	defer p.stop()
	base := "http://" + p.addr
	l := e.newLoad("", 0, p.pid())
	l.conns = e.c.loginConns
	l.send = func(ctx context.Context, c *http.Client, _ int) error {
		_, err := login(ctx, c, base)
		return err
	}
	e.withRedisPID("redis", &l)
	return l.run(ctx)
}

// measureManySessions starts the memory store with c.sessions sessions made
// through the Manager and spreads the GETs over all of them. It returns the
// peak RSS of creating them too, before the peak is reset for serving.
func (e *env) measureManySessions(ctx context.Context, tokens string) (result, int64, error) {
	file := filepath.Join(e.tmp, "cookies-memory-"+tokens)
	p, err := e.startTarget("memory", "-sessions", fmt.Sprint(e.c.sessions), "-tokens", tokens, "-cookies", file)
	if err != nil {
		return result{}, 0, err
	}
	defer p.stop()
	cookies, err := readCookies(file)
	if err != nil {
		return result{}, 0, err
	}
	setup, _, err := memory(p.pid())
	if err != nil {
		return result{}, 0, err
	}
	if err := resetPeakMemory(p.pid()); err != nil {
		return result{}, 0, err
	}
	l := e.newLoad("http://"+p.addr+"/app/보고서?id=3", http.StatusOK, p.pid())
	l.cookies = cookies
	r, err := l.run(ctx)
	return r, setup, err
}

func readCookies(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("cookies: %w", err)
	}
	return strings.Fields(string(b)), nil
}

// redisSample is how many sessions the Redis memory measurement creates.
const redisSample = 1000

// measureRedisMemory reports MEMORY USAGE of one real login's session and
// of Google-sized sessions, and used_memory growth per session (index
// included).
func (e *env) measureRedisMemory(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := e.rdb.FlushAll(ctx).Err(); err != nil {
		return fmt.Errorf("redis memory: %w", err)
	}
	p, err := e.startTarget("redis")
	if err != nil {
		return err
	}
	base := "http://" + p.addr
	_, err = login(ctx, &http.Client{Timeout: requestTimeout}, base)
	p.stop()
	if err != nil {
		return err
	}
	ids, err := e.rdb.SMembers(ctx, "socialgate:u:kakao:"+benchUser).Result()
	if err != nil || len(ids) != 1 {
		return fmt.Errorf("redis memory: index of the signed-in user: %d ids, %v", len(ids), err)
	}
	kakao, err := e.rdb.MemoryUsage(ctx, "socialgate:s:"+ids[0]).Result()
	if err != nil {
		return fmt.Errorf("redis memory: %w", err)
	}
	fmt.Fprintln(out, "\nRedis memory per session (MEMORY USAGE: the session's hash, and the user's index set):")
	fmt.Fprintf(out, "  one login through the fake Kakao: %d B\n", kakao)
	for _, tokens := range []string{"kakao", "naver", "google"} {
		if err := e.redisMemory(ctx, out, tokens); err != nil {
			return err
		}
	}
	return nil
}

// redisMemory creates redisSample sessions with provider's token sizes in
// an empty Redis and reports what each costs there.
func (e *env) redisMemory(ctx context.Context, out io.Writer, provider string) error {
	if err := e.rdb.FlushAll(ctx).Err(); err != nil {
		return fmt.Errorf("redis memory: %w", err)
	}
	before, err := usedMemory(ctx, e.rdb)
	if err != nil {
		return err
	}
	p, err := e.startTarget("redis", "-sessions", fmt.Sprint(redisSample), "-tokens", provider)
	if err != nil {
		return err
	}
	p.stop()
	after, err := usedMemory(ctx, e.rdb)
	if err != nil {
		return err
	}
	sess, err := meanMemoryUsage(ctx, e.rdb, "socialgate:s:*")
	if err != nil {
		return err
	}
	index, err := meanMemoryUsage(ctx, e.rdb, "socialgate:u:*")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  %-6s token sizes (%d sessions): %4.0f B hash + %3.0f B index; used_memory grew %4.0f B per session\n",
		provider, redisSample, sess, index, float64(after-before)/redisSample)
	return nil
}

func usedMemory(ctx context.Context, c *redis.Client) (int64, error) {
	info, err := c.InfoMap(ctx, "memory").Result()
	if err != nil {
		return 0, fmt.Errorf("redis memory: %w", err)
	}
	var n int64
	if _, err := fmt.Sscan(info["Memory"]["used_memory"], &n); err != nil {
		return 0, fmt.Errorf("redis memory: used_memory: %w", err)
	}
	return n, nil
}

// meanMemoryUsage averages MEMORY USAGE over the keys matching pattern.
func meanMemoryUsage(ctx context.Context, c *redis.Client, pattern string) (float64, error) {
	var sum, n int64
	iter := c.Scan(ctx, 0, pattern, 500).Iterator()
	for iter.Next(ctx) {
		m, err := c.MemoryUsage(ctx, iter.Val()).Result()
		if err != nil {
			return 0, fmt.Errorf("redis memory: %w", err)
		}
		sum += m
		n++
	}
	if err := iter.Err(); err != nil {
		return 0, fmt.Errorf("redis memory: %w", err)
	}
	if n == 0 {
		return 0, fmt.Errorf("redis memory: no key matches %s", pattern)
	}
	return float64(sum) / float64(n), nil
}
