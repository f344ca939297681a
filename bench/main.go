// Command bench measures what socialgate costs per proxied request next to
// a bare net/http/httputil.ReverseProxy, on this machine, with real
// processes: `make bench` (go run ./bench).
//
// The parent process starts a real redis-server, a tiny upstream, a fake
// Kakao (providertest, auto-approving) and, round by round, each target as
// its own OS process (this binary re-executed with the `target`
// sub-command), so that the target's CPU time and peak RSS can be read from
// /proc/PID/stat and /proc/PID/status. It signs in once through the fake to
// get a real session cookie, then drives every target with the same load
// (fixed connections, keep-alive, warm-up, fixed duration) from a Go load
// generator in the parent. CPU per request is the figure to trust on a
// shared machine: throughput and latency move with whatever else runs, CPU
// time per request much less.
//
// Every address is on 127.0.0.1, every loop is bounded in time, and every
// child process stops by itself when the parent goes away (stdin closes,
// and the kernel sends SIGKILL on the parent's death).
//
// The bearer target is the memory-store gateway on a route that also takes
// bearer tokens, driven with a JWT access token from a fake authorization
// server (client-credentials grant) instead of the session cookie: the
// summary compares its CPU per request with the memory target's.
//
//	go run ./bench [-rounds 3] [-conns 32] [-duration 5s] [-warmup 1s] [-targets bare,bare-pool,memory,bearer,redis,redis-cache]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "target":
		err = runTarget(ctx, os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "upstream":
		err = runUpstream(ctx, os.Args[2:])
	default:
		err = runBench(ctx, os.Args[1:], os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		stop()
		os.Exit(1)
	}
}

// benchConfig is the command line of the parent.
type benchConfig struct {
	rounds     int
	conns      int
	duration   time.Duration
	warmup     time.Duration
	targets    []string
	cacheTTL   time.Duration
	sessions   int
	loginConns int
	extras     bool
	profileDir string
	verbose    bool
}

func parseBenchFlags(args []string, out io.Writer) (benchConfig, error) {
	var c benchConfig
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&c.rounds, "rounds", 3, "rounds; each runs every target once, in turn")
	fs.IntVar(&c.conns, "conns", 32, "concurrent keep-alive connections of the load generator")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "measured time per target and round")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured load before each measurement")
	targets := fs.String("targets", "bare,bare-pool,memory,bearer,redis,redis-cache",
		"comma-separated `list` of bare, bare-pool, memory, bearer, redis, redis-cache")
	fs.DurationVar(&c.cacheTTL, "cache-ttl", 5*time.Second, "session.cache_ttl of the redis-cache target")
	fs.IntVar(&c.sessions, "sessions", 10000, "sessions created in the memory store for the RSS measurement")
	fs.IntVar(&c.loginConns, "login-conns", 8, "concurrent browsers in the logins/s measurement")
	fs.BoolVar(&c.extras, "extras", true, "also measure logins/s, /oauth2/auth, RSS at -sessions, Redis memory per session")
	fs.StringVar(&c.profileDir, "cpuprofile", "", "write each target's CPU profile of each round into this `dir`")
	fs.BoolVar(&c.verbose, "v", false, "pass the targets' logs through to stderr")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	for _, t := range strings.Split(*targets, ",") {
		switch t = strings.TrimSpace(t); t {
		case "bare", "bare-pool", "memory", "bearer", "redis", "redis-cache":
			c.targets = append(c.targets, t)
		case "":
		default:
			return c, fmt.Errorf("-targets: unknown target %q", t)
		}
	}
	switch {
	case c.rounds < 1 || c.conns < 1 || c.loginConns < 1:
		return c, fmt.Errorf("-rounds, -conns and -login-conns must be at least 1")
	case c.duration <= 0 || c.warmup < 0:
		return c, fmt.Errorf("-duration must be positive and -warmup not negative")
	case len(c.targets) == 0:
		return c, fmt.Errorf("-targets: none given")
	}
	return c, nil
}

// runBench is the parent: it owns the shared processes and runs the rounds
// and the extra measurements.
func runBench(ctx context.Context, args []string, out io.Writer) error {
	c, err := parseBenchFlags(args, out)
	if err != nil {
		return err
	}
	if c.profileDir != "" {
		// Each target writes its own file there; a missing directory
		// would only show as a target that "exited before it was ready".
		if err := os.MkdirAll(c.profileDir, 0o755); err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
	}
	env, err := startEnv(ctx, c)
	if err != nil {
		return err
	}
	defer env.close()

	fmt.Fprintf(out, "socialgate bench: %d round(s), %d connections, %v warm-up + %v per target, GOMAXPROCS of each target = %d CPUs\n",
		c.rounds, c.conns, c.warmup, c.duration, numCPU())
	fmt.Fprintf(out, "load average before: %s\n\n", loadAverage())

	var rounds [][]result
	for i := range c.rounds {
		var row []result
		for _, kind := range c.targets {
			res, err := env.measureTarget(ctx, kind, i+1)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", i+1, kind, err)
			}
			row = append(row, res)
		}
		printRound(out, i+1, row)
		rounds = append(rounds, row)
	}
	printSummary(out, rounds)
	printBearerVsCookie(out, rounds)

	if c.extras {
		if err := env.extras(ctx, out); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "\nload average after: %s\n", loadAverage())
	return nil
}
