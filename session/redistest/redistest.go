// Package redistest starts real redis-server processes for tests, so that
// the Redis store is tested against the server it will meet in production
// (miniredis is fast but not Redis): a standalone server (Start), a master
// with a replica watched by three sentinels (StartSentinel), or a
// three-master cluster (StartCluster). Only loopback addresses are used.
package redistest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startTimeout bounds how long a server may take to answer PING.
const startTimeout = 10 * time.Second

// Server is one redis-server (or redis-sentinel) process on 127.0.0.1.
type Server struct {
	// Addr is "127.0.0.1:PORT"; it stays the same across Restart.
	Addr string

	t    testing.TB
	bin  string
	argv func(port, dir string) ([]string, error)
	dir  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	out    *syncBuffer
	client *redis.Client
}

// Start runs redis-server on a free loopback port with persistence off,
// waits until it answers PING, and stops it when the test ends. Extra args
// are appended to the command line ("--requirepass", "x").
//
// Without redis-server on PATH the test is skipped, or fails when the CI
// environment variable is set, so CI never silently skips the real server.
// Under `go test -short` the test is always skipped: the short tier starts no
// process (use miniredis there).
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	bin := lookPath(t, "redis-server")
	return launch(t, bin, func(port, dir string) ([]string, error) {
		return append(serverArgs(port, dir), args...), nil
	})
}

// lookPath finds a Redis binary, or skips the test (fails it under CI). Every
// helper that starts a process comes through here first, so this is where
// the short tier is kept free of external processes.
func lookPath(t testing.TB, name string) string {
	t.Helper()
	skipShort(t)
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed: run make test", name)
		}
		t.Skipf("%s not installed", name)
	}
	return bin
}

// skipShort skips t under `go test -short`, the tier that runs in-process
// only.
func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts redis-server: not in the -short tier")
	}
}

// serverArgs is the common redis-server command line: loopback only, no
// persistence, files in dir.
func serverArgs(port, dir string) []string {
	return []string{
		"--port", port,
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--protected-mode", "no",
		"--dir", dir,
	}
}

// launch starts bin with the command line argv builds for a free port and
// a private directory, retrying on another port if the first was taken,
// and stops it when the test ends.
func launch(t testing.TB, bin string, argv func(port, dir string) ([]string, error)) *Server {
	t.Helper()
	s := &Server{t: t, bin: bin, argv: argv, dir: t.TempDir()}
	// The port is free when probed but may be taken before redis binds it;
	// a few attempts make that race harmless.
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err = s.start()
		if err == nil {
			break
		}
		if attempt == 2 {
			t.Fatalf("redistest: %v", err)
		}
	}
	t.Cleanup(func() {
		s.mu.Lock()
		c := s.client
		s.mu.Unlock()
		if c != nil {
			_ = c.Close()
		}
		s.Stop()
	})
	return s
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start launches the process on s.Addr and waits for PING.
func (s *Server) start() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	args, err := s.argv(port, s.dir)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", filepath.Base(s.bin), err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited, s.out = cmd, exited, out
	s.mu.Unlock()

	if err := waitPing(s.Addr, cmd.Process.Pid, exited); err != nil {
		s.Stop()
		return fmt.Errorf("%s on %s: %w\n%s", filepath.Base(s.bin), s.Addr, err, out.String())
	}
	return nil
}

// waitPing polls until the server answers PING, the process exits, or
// startTimeout passes. The answer must come from our process (INFO's
// process_id): another test's server that took the port first is not ours.
func waitPing(addr string, pid int, exited <-chan struct{}) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		var info string
		if err == nil {
			info, err = c.Info(ctx, "server").Result()
		}
		cancel()
		if err == nil {
			if got := "process_id:" + strconv.Itoa(pid); !strings.Contains(info, got+"\r\n") && !strings.Contains(info, got+"\n") {
				return fmt.Errorf("port %s answered by another process, not pid %d", addr, pid)
			}
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before answering: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PING answer within %v: %w", startTimeout, err)
		}
	}
}

// Stop kills the server and waits for it to exit. Stopping a stopped
// server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// Restart starts the server again on the same port, empty (persistence is
// off), for outage tests. It fails the test if the port was taken meanwhile.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
}

// Client returns a client for the server, closed when the test ends. Every
// call returns the same client; it reconnects after Restart.
func (s *Server) Client() *redis.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		// One dial attempt: outage tests want errors now, not after redials.
		s.client = redis.NewClient(&redis.Options{Addr: s.Addr, DialerRetries: 1})
	}
	return s.client
}

// output is what the process printed, for failure messages.
func (s *Server) output() string {
	s.mu.Lock()
	out := s.out
	s.mu.Unlock()
	if out == nil {
		return ""
	}
	return out.String()
}

// syncBuffer collects the server's output for failure messages; the process
// writes while a test may read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
