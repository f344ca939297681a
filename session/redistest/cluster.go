package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Cluster is three masters sharing the 16384 hash slots, without replicas.
type Cluster struct {
	// Addrs are the masters' addresses, what a client is given as seeds.
	Addrs []string
	// Nodes are the masters, in the order of Addrs.
	Nodes []*Server

	t testing.TB
}

// StartCluster starts three cluster-enabled servers on free loopback
// ports, joins them with redis-cli --cluster create, waits until every node
// reports cluster_state:ok, and stops them when the test ends. Binaries
// (redis-server, redis-cli) are looked up as in Start.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	bin := lookPath(t, "redis-server")
	cli := lookPath(t, "redis-cli")
	c := &Cluster{t: t}
	for range 3 {
		n := launch(t, bin, func(port, dir string) ([]string, error) {
			bus, err := busPort(port)
			if err != nil {
				return nil, err
			}
			return append(serverArgs(port, dir),
				"--cluster-enabled", "yes",
				"--cluster-config-file", filepath.Join(dir, "nodes-"+port+".conf"),
				"--cluster-node-timeout", "2000",
				// The default bus port, port+10000, may be taken or past
				// 65535; a probed free one is neither.
				"--cluster-port", bus,
			), nil
		})
		c.Nodes = append(c.Nodes, n)
		c.Addrs = append(c.Addrs, n.Addr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	args := append(append([]string{"--cluster", "create"}, c.Addrs...), "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := poll(readyTimeout, c.ready); err != nil {
		t.Fatalf("redistest: cluster setup: %v", err)
	}
	return c
}

// busPort returns a free port for the cluster bus, other than port.
func busPort(port string) (string, error) {
	for {
		p, err := freePort()
		if err != nil {
			return "", err
		}
		if s := strconv.Itoa(p); s != port {
			return s, nil
		}
	}
}

// ready reports a node that does not yet see the whole cluster, or nil.
func (c *Cluster) ready() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, n := range c.Nodes {
		info, err := n.Client().ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("node %s: %w", n.Addr, err)
		}
		state, known, slots := infoField(info, "cluster_state"), infoField(info, "cluster_known_nodes"), infoField(info, "cluster_slots_ok")
		if state != "ok" || known != "3" || slots != "16384" {
			return fmt.Errorf("node %s: state %q, %s known nodes, %s slots ok; want ok, 3, 16384", n.Addr, state, known, slots)
		}
	}
	return nil
}

// Owner returns the index in Nodes of the master that serves slot.
func (c *Cluster) Owner(slot int) int {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	shards, err := c.Nodes[0].Client().ClusterShards(ctx).Result()
	if err != nil {
		c.t.Fatalf("redistest: CLUSTER SHARDS: %v", err)
	}
	for _, sh := range shards {
		for _, r := range sh.Slots {
			if int(r.Start) > slot || slot > int(r.End) {
				continue
			}
			for _, n := range sh.Nodes {
				if n.Role != "master" {
					continue
				}
				addr := net.JoinHostPort(n.IP, strconv.FormatInt(n.Port, 10))
				for i, a := range c.Addrs {
					if a == addr {
						return i
					}
				}
			}
		}
	}
	c.t.Fatalf("redistest: no node serves slot %d", slot)
	return -1
}

// MoveSlot migrates slot and its keys to Nodes[to], the way redis-cli
// --cluster reshard does: mark the slot importing and migrating, MIGRATE
// its keys, then give it to the new owner on every node. A client that
// knew the old layout then gets MOVED from the old owner. If between is not
// nil it runs after the keys moved and before the slot changes hands;
// meanwhile the old owner answers ASK for the moved keys.
func (c *Cluster) MoveSlot(slot, to int, between func()) {
	c.t.Helper()
	if err := c.moveSlot(slot, to, between); err != nil {
		c.t.Fatalf("redistest: move slot %d: %v", slot, err)
	}
}

func (c *Cluster) moveSlot(slot, to int, between func()) error {
	from := c.Owner(slot)
	if from == to {
		return fmt.Errorf("node %d already serves it", to)
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	src, dst := c.Nodes[from].Client(), c.Nodes[to].Client()
	srcID, err := src.ClusterMyID(ctx).Result()
	if err != nil {
		return fmt.Errorf("CLUSTER MYID: %w", err)
	}
	dstID, err := dst.ClusterMyID(ctx).Result()
	if err != nil {
		return fmt.Errorf("CLUSTER MYID: %w", err)
	}
	if err := dst.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", srcID).Err(); err != nil {
		return fmt.Errorf("SETSLOT IMPORTING: %w", err)
	}
	if err := src.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", dstID).Err(); err != nil {
		return fmt.Errorf("SETSLOT MIGRATING: %w", err)
	}
	host, port, _ := net.SplitHostPort(c.Addrs[to])
	for {
		keys, err := src.ClusterGetKeysInSlot(ctx, slot, 100).Result()
		if err != nil {
			return fmt.Errorf("GETKEYSINSLOT: %w", err)
		}
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", host, port, "", 0, 5000, "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		if err := src.Do(ctx, args...).Err(); err != nil {
			return fmt.Errorf("MIGRATE: %w", err)
		}
	}
	if between != nil {
		between()
	}
	// The new owner first, as redis-cli does, so no node points back.
	order := []int{to}
	for i := range c.Nodes {
		if i != to {
			order = append(order, i)
		}
	}
	var errs []error
	for _, i := range order {
		errs = append(errs, c.Nodes[i].Client().Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("SETSLOT NODE: %w", err)
	}
	return poll(readyTimeout, func() error {
		if got := c.Owner(slot); got != to {
			return fmt.Errorf("slot %d still served by node %d", slot, got)
		}
		return c.ready()
	})
}
