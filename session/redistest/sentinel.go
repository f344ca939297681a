package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// readyTimeout bounds how long a topology may take to settle: replicas in
// sync, sentinels aware of each other, cluster slots agreed.
const readyTimeout = 30 * time.Second

// Sentinel is a master and one replica watched by three sentinels with
// quorum 2. Its timings are short (down after 1s, failover timeout 3s), so
// a failover completes in seconds.
type Sentinel struct {
	// MasterName is the name the sentinels know the master by.
	MasterName string
	// SentinelAddrs are the sentinels' addresses, what a client is given.
	SentinelAddrs []string

	t         testing.TB
	nodes     []*Server // data nodes; nodes[0] starts as the master
	sentinels []*Server

	mu      sync.Mutex
	stopped string   // address of the master StopMaster killed last
	down    []string // sentinels StopSentinel killed
}

// StartSentinel starts the master, its replica and three sentinels on
// free loopback ports, waits until the replica is in sync and every
// sentinel sees the master, the replica and the other two sentinels, and
// stops everything when the test ends. Binaries are looked up as in Start;
// without redis-sentinel, redis-server runs in sentinel mode.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	// A diskless sync that starts at once: the default waits 5s for more
	// replicas to join.
	master := Start(t, "--repl-diskless-sync-delay", "0")
	_, mport, _ := net.SplitHostPort(master.Addr)
	replica := Start(t, "--repl-diskless-sync-delay", "0", "--replicaof", "127.0.0.1", mport)
	s := &Sentinel{MasterName: "sgmaster", t: t, nodes: []*Server{master, replica}}

	bin, mode := sentinelBinary(t)
	for range 3 {
		sn := launch(t, bin, func(port, dir string) ([]string, error) {
			// Sentinel rewrites its config file, so each gets its own,
			// rewritten from scratch on every start.
			conf := filepath.Join(dir, "sentinel.conf")
			if err := os.WriteFile(conf, []byte(sentinelConf(port, dir, s.MasterName, mport)), 0o600); err != nil {
				return nil, fmt.Errorf("write sentinel config: %w", err)
			}
			return append([]string{conf}, mode...), nil
		})
		s.sentinels = append(s.sentinels, sn)
		s.SentinelAddrs = append(s.SentinelAddrs, sn.Addr)
	}
	if err := poll(readyTimeout, s.ready); err != nil {
		t.Fatalf("redistest: sentinel setup: %v\n%s", err, s.logs())
	}
	return s
}

// sentinelBinary returns redis-sentinel, or redis-server with the flag that
// turns it into one.
func sentinelBinary(t testing.TB) (string, []string) {
	t.Helper()
	if bin, err := exec.LookPath("redis-sentinel"); err == nil {
		return bin, nil
	}
	return lookPath(t, "redis-server"), []string{"--sentinel"}
}

func sentinelConf(port, dir, name, masterPort string) string {
	return fmt.Sprintf(`port %s
bind 127.0.0.1
protected-mode no
daemonize no
logfile ""
dir %q
sentinel resolve-hostnames no
sentinel monitor %s 127.0.0.1 %s 2
sentinel down-after-milliseconds %s 1000
sentinel failover-timeout %s 3000
sentinel parallel-syncs %s 1
`, port, dir, name, masterPort, name, name, name)
}

// ready reports what is not yet set up, or nil.
func (s *Sentinel) ready() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	master, replica := s.nodes[0], s.nodes[1]
	info, err := master.Client().Info(ctx, "replication").Result()
	if err != nil {
		return fmt.Errorf("master %s: %w", master.Addr, err)
	}
	if infoField(info, "connected_slaves") != "1" || !strings.Contains(info, "state=online") {
		return fmt.Errorf("master %s: replica not online yet", master.Addr)
	}
	info, err = replica.Client().Info(ctx, "replication").Result()
	if err != nil {
		return fmt.Errorf("replica %s: %w", replica.Addr, err)
	}
	if got := infoField(info, "master_link_status"); got != "up" {
		return fmt.Errorf("replica %s: master link %q, want up", replica.Addr, got)
	}
	for _, addr := range s.SentinelAddrs {
		if err := s.sentinelReady(ctx, addr); err != nil {
			return fmt.Errorf("sentinel %s: %w", addr, err)
		}
	}
	return nil
}

func (s *Sentinel) sentinelReady(ctx context.Context, addr string) error {
	c := redis.NewSentinelClient(&redis.Options{Addr: addr, DialerRetries: 1})
	defer c.Close()
	m, err := c.Master(ctx, s.MasterName).Result()
	if err != nil {
		return err
	}
	if m["flags"] != "master" || m["num-other-sentinels"] != "2" || m["num-slaves"] != "1" {
		return fmt.Errorf("master flags %q, %s other sentinels, %s replicas; want master, 2, 1",
			m["flags"], m["num-other-sentinels"], m["num-slaves"])
	}
	rs, err := c.Replicas(ctx, s.MasterName).Result()
	if err != nil {
		return err
	}
	if len(rs) != 1 || rs[0]["flags"] != "slave" || rs[0]["master-link-status"] != "ok" {
		return fmt.Errorf("replicas %v: want one healthy replica", rs)
	}
	return nil
}

// Master returns the data node the sentinels currently name as master.
func (s *Sentinel) Master() *Server {
	s.t.Helper()
	addr, err := s.masterAddr()
	if err != nil {
		s.t.Fatalf("redistest: %v", err)
	}
	for _, n := range s.nodes {
		if n.Addr == addr {
			return n
		}
	}
	s.t.Fatalf("redistest: sentinels name %s, not one of the started nodes", addr)
	return nil
}

// Replica returns a data node that is not the current master.
func (s *Sentinel) Replica() *Server {
	s.t.Helper()
	m := s.Master()
	for _, n := range s.nodes {
		if n != m {
			return n
		}
	}
	return nil // not reached: there are two nodes
}

// masterAddr asks the sentinels, in order, for the master's address; the
// first answer wins.
func (s *Sentinel) masterAddr() (string, error) {
	var errs []error
	for _, addr := range s.SentinelAddrs {
		a, err := s.askSentinel(addr)
		if err == nil {
			return a, nil
		}
		errs = append(errs, err)
	}
	return "", fmt.Errorf("no sentinel names a master: %w", errors.Join(errs...))
}

func (s *Sentinel) askSentinel(addr string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c := redis.NewSentinelClient(&redis.Options{Addr: addr, DialerRetries: 1})
	defer c.Close()
	hp, err := c.GetMasterAddrByName(ctx, s.MasterName).Result()
	if err != nil {
		return "", fmt.Errorf("sentinel %s: %w", addr, err)
	}
	if len(hp) != 2 {
		return "", fmt.Errorf("sentinel %s: got %q, want host and port", addr, hp)
	}
	return net.JoinHostPort(hp[0], hp[1]), nil
}

// StopMaster kills the current master, as a crash would: no shutdown, no
// goodbye to the replica or the sentinels.
func (s *Sentinel) StopMaster() {
	s.t.Helper()
	m := s.Master()
	s.mu.Lock()
	s.stopped = m.Addr
	s.mu.Unlock()
	m.Stop()
}

// StopSentinel kills sentinel i (0, 1 or 2); the other two still make a
// quorum. WaitFailover then asks only the sentinels still running.
func (s *Sentinel) StopSentinel(i int) {
	s.t.Helper()
	s.sentinels[i].Stop()
	s.mu.Lock()
	s.down = append(s.down, s.SentinelAddrs[i])
	s.mu.Unlock()
}

// WaitFailover waits until every running sentinel names a new master and that node
// answers ROLE as a master, and returns its address. "New" means other than
// the master StopMaster killed last, or, before any StopMaster, than the
// master at the time of the call. It fails the test, with the sentinels'
// logs, if that takes longer than timeout; call it from the test goroutine.
func (s *Sentinel) WaitFailover(timeout time.Duration) string {
	s.t.Helper()
	s.mu.Lock()
	old := s.stopped
	down := slices.Clone(s.down)
	s.mu.Unlock()
	if old == "" {
		old = s.Master().Addr
	}
	var promoted string
	err := poll(timeout, func() error {
		addr := ""
		for _, sa := range s.SentinelAddrs {
			if slices.Contains(down, sa) {
				continue
			}
			a, err := s.askSentinel(sa)
			switch {
			case err != nil:
				return err
			case a == old:
				return fmt.Errorf("sentinel %s still names %s", sa, old)
			case addr != "" && a != addr:
				return fmt.Errorf("sentinels disagree: %s and %s", addr, a)
			}
			addr = a
		}
		if err := checkRole(addr, "master"); err != nil {
			return err
		}
		promoted = addr
		return nil
	})
	if err != nil {
		s.t.Fatalf("redistest: no failover from %s: %v\n%s", old, err, s.logs())
	}
	return promoted
}

func checkRole(addr, want string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: addr, DialerRetries: 1})
	defer c.Close()
	role, err := c.Do(ctx, "ROLE").Slice()
	if err != nil {
		return fmt.Errorf("ROLE on %s: %w", addr, err)
	}
	if len(role) == 0 || role[0] != want {
		return fmt.Errorf("ROLE on %s: got %v, want %s", addr, role, want)
	}
	return nil
}

// logs is the tail of every sentinel's output, for failure messages: it
// shows +sdown, +odown, the election and +switch-master.
func (s *Sentinel) logs() string {
	const tail = 3000
	var b strings.Builder
	for _, sn := range s.sentinels {
		out := sn.output()
		if len(out) > tail {
			out = out[len(out)-tail:]
		}
		fmt.Fprintf(&b, "--- sentinel %s:\n%s", sn.Addr, out)
	}
	return b.String()
}

// poll calls f until it returns nil or timeout passes, and then returns
// f's last error.
func poll(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v: %w", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// infoField returns the value of key in an INFO reply ("key:value" lines).
func infoField(info, key string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), key+":"); ok {
			return v
		}
	}
	return ""
}
