package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/socialgate/socialgate/providers/providertest"
	"github.com/socialgate/socialgate/session"
)

// benchUser is the fake Kakao user every login signs in as: Hangul
// nickname, an ID above 2^53.
const benchUser = "9007199254740993"

// env is what every round shares: the bench binary, redis-server, the
// upstream app and the fake Kakao.
type env struct {
	c        benchConfig
	bin      string
	secret   string
	redis    *exec.Cmd
	redisAdr string
	rdb      *redis.Client
	upstream *proc
	fake     *providertest.Fake
	// auth issues the bearer target's access token (client credentials).
	auth  *providertest.AuthServer
	token string
	tmp   string
}

// benchAudience is the aud of the bearer target's tokens.
const benchAudience = "bench-api"

func startEnv(ctx context.Context, c benchConfig) (_ *env, err error) {
	e := &env{c: c}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	if e.bin, err = os.Executable(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if e.tmp, err = os.MkdirTemp("", "socialgate-bench-"); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	sec := make([]byte, 32)
	_, _ = rand.Read(sec)
	e.secret = base64.RawURLEncoding.EncodeToString(sec)
	if err := e.startRedis(ctx); err != nil {
		return nil, err
	}
	if e.upstream, err = startProc("upstream", e.bin, []string{"upstream"}, nil, c.verbose); err != nil {
		return nil, err
	}
	if e.fake, err = providertest.Start(providertest.Kakao, providertest.Options{ClientID: "bench-kakao"}); err != nil {
		return nil, fmt.Errorf("bench: fake kakao: %w", err)
	}
	e.fake.AutoApprove(benchUser)
	if e.auth, err = providertest.StartAuthServer(providertest.AuthServerOptions{Audience: benchAudience,
		Clients: []providertest.AuthClient{{ID: "bench-job", Secret: e.secret, Scopes: []string{"wiki.read"}}}}); err != nil {
		return nil, fmt.Errorf("bench: fake authorization server: %w", err)
	}
	cc := clientcredentials.Config{ClientID: "bench-job", ClientSecret: e.secret, TokenURL: e.auth.TokenURL()}
	tctx, cancel := context.WithTimeout(ctx, requestTimeout)
	tok, err := cc.Token(tctx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("bench: client-credentials token: %w", err)
	}
	e.token = tok.AccessToken
	return e, nil
}

func (e *env) close() {
	if e.fake != nil {
		e.fake.Close()
	}
	if e.auth != nil {
		e.auth.Close()
	}
	if e.upstream != nil {
		e.upstream.stop()
	}
	if e.rdb != nil {
		_ = e.rdb.Close()
	}
	if e.redis != nil {
		_ = e.redis.Process.Kill()
		_ = e.redis.Wait()
	}
	if e.tmp != "" {
		_ = os.RemoveAll(e.tmp)
	}
}

// startRedis runs redis-server on a free loopback port, persistence off.
func (e *env) startRedis(ctx context.Context) error {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return errors.New("bench: redis-server not installed (make deps installs it)")
	}
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--protected-mode", "no", "--dir", e.tmp)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("bench: redis-server: %w", err)
		}
		e.redis, e.redisAdr = cmd, "127.0.0.1:"+strconv.Itoa(port)
		e.rdb = redis.NewClient(&redis.Options{Addr: e.redisAdr, DialTimeout: time.Second,
			ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
		if err := waitRedis(ctx, e.rdb); err == nil {
			return nil
		} else if attempt == 2 {
			return fmt.Errorf("bench: redis-server on %s: %w", e.redisAdr, err)
		}
		_ = e.rdb.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		e.redis, e.rdb = nil, nil
	}
}

func waitRedis(ctx context.Context, c *redis.Client) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := c.Ping(pctx).Err()
		cancel()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}

// startTarget runs `bench target KIND` with the shared addresses. kind
// "redis-cache" is the Redis store with the local session cache on,
// "bare-pool" the bare proxy with a buffer pool.
func (e *env) startTarget(kind string, extra ...string) (*proc, error) {
	ep, err := json.Marshal(e.fake.Endpoints())
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	store := kind
	args := []string{"-upstream", "http://" + e.upstream.addr, "-endpoints", string(ep)}
	switch kind {
	case "bare-pool":
		store = "bare"
		args = append(args, "-pool")
	case "redis-cache":
		store = "redis"
		args = append(args, "-cache-ttl", e.c.cacheTTL.String())
	case "redis":
		args = append(args, "-cache-ttl", "0s")
	case "bearer":
		store = "memory"
		args = append(args, "-issuer", e.auth.URL())
	}
	if store == "redis" {
		args = append(args, "-redis", e.redisAdr)
	}
	args = append(append([]string{"target", store}, args...), extra...)
	return startProc(kind, e.bin, args, []string{secretEnv + "=" + e.secret}, e.c.verbose)
}

// measureTarget starts a fresh target process, signs in once (gateways),
// drives the load and stops the target.
func (e *env) measureTarget(ctx context.Context, kind string, round int) (result, error) {
	var extra []string
	if e.c.profileDir != "" {
		extra = append(extra, "-cpuprofile", filepath.Join(e.c.profileDir, fmt.Sprintf("%s-%d.pprof", kind, round)))
	}
	p, err := e.startTarget(kind, extra...)
	if err != nil {
		return result{}, err
	}
	defer p.stop()
	base := "http://" + p.addr
	l := e.newLoad(base+"/app/보고서?id=3", http.StatusOK, p.pid())
	switch {
	case kind == "bearer":
		// A machine client reusing its access token, as the grant intends;
		// no session exists on this gateway at all.
		l.authorization = "Bearer " + e.token
	case strings.HasPrefix(kind, "bare"):
		// The same bytes as a gateway gets: a cookie as long as a session
		// cookie (140 characters of signed ID), which a bare proxy forwards.
		l.cookies = []string{session.DefaultCookieName + "=" + randText(140)}
	default:
		cookie, err := login(ctx, &http.Client{Timeout: requestTimeout}, base)
		if err != nil {
			return result{}, err
		}
		l.cookies = []string{cookie}
	}
	if kind == "redis" || kind == "redis-cache" {
		l.pids = append(l.pids, e.redis.Process.Pid)
	}
	res, err := l.run(ctx)
	res.target = kind
	return res, err
}

func (e *env) newLoad(u string, status int, pid int) load {
	return load{url: u, status: status, conns: e.c.conns, warmup: e.c.warmup,
		measure: e.c.duration, pids: []int{pid}}
}

// login signs in through the gateway and the fake Kakao the way a browser
// does (start → authorize → callback → the page it asked for) and returns
// the session cookie as a Cookie header value.
func login(ctx context.Context, client *http.Client, base string) (string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	c := *client
	c.Jar, c.CheckRedirect = jar, nil // follow the redirects, keep the cookies
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	u := base + "/oauth2/start/kakao?rd=" + url.QueryEscape(base+"/app/보고서?id=3")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("login: landed on %s with status %d, want 200", resp.Request.URL.Path, resp.StatusCode)
	}
	bu, _ := url.Parse(base)
	for _, ck := range jar.Cookies(bu) {
		if ck.Name == session.DefaultCookieName {
			return ck.Name + "=" + ck.Value, nil
		}
	}
	return "", errors.New("login: no session cookie after the callback")
}
