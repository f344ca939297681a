// Command socialgate is a social-login gateway: it runs the OAuth 2.0
// authorization-code flow against Google, Naver and Kakao in front of web
// apps that have no login of their own, and proxies to them with identity
// headers they can trust.
//
//	socialgate serve --config FILE      run the gateway (also: socialgate --config FILE)
//	socialgate demo [--addr ADDR]        everything in one process, no secrets, no Redis
//	socialgate check-config --config FILE [--connect]
//	socialgate sessions list|revoke --config FILE (--user PROVIDER:SUBJECT | --all)
//	socialgate version
//	socialgate help [COMMAND]
//
// Exit codes: 0 success, 1 a runtime failure, 2 a usage error.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/redis/go-redis/v9"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// go-redis logs through one process-wide logger and has no per-client
	// option, so this is the one piece of process-wide state socialgate
	// sets, here, once, before any command runs. It drops go-redis's
	// messages (failed dials, Sentinel switches) until serve points it at
	// its JSON log: the one-shot commands report a failure as their own
	// one-line error instead. Tests call run and keep their own setting.
	rl := &redisLog{}
	redis.SetLogger(rl)
	c := &cli{stdout: os.Stdout, stderr: os.Stderr, redisLog: rl}
	code := c.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run runs one command line and returns its exit code; tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return (&cli{stdout: stdout, stderr: stderr}).run(ctx, args)
}

// serve runs the gateway until ctx ends.
func (c *cli) serve(ctx context.Context, args []string) error {
	fs := c.flags("serve")
	path := configFlag(fs)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(fs, *path)
	if err != nil {
		return err
	}
	log := newLogger(c.stderr, cfg.Log.Level)
	if c.redisLog != nil {
		c.redisLog.set(log)
	}
	for _, w := range cfg.Warnings() {
		log.Warn("config", slog.String("warning", w.String()))
	}
	gw, err := newGateway(cfg, log)
	if err != nil {
		return err
	}
	defer gw.Close()
	b := readBuildInfo()
	log.Info("socialgate starting", slog.String("version", b.version), slog.String("revision", b.revision),
		slog.String("listen", cfg.Server.Listen))
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return runGateway(ctx, *path, gw, log, hup)
}

// redisLog is go-redis's logger (see main): silent until set, then the JSON
// log at warning level.
type redisLog struct{ log atomic.Pointer[slog.Logger] }

func (l *redisLog) set(log *slog.Logger) { l.log.Store(log) }

func (l *redisLog) Printf(ctx context.Context, format string, v ...any) {
	if log := l.log.Load(); log != nil {
		log.WarnContext(ctx, "redis client", slog.String("detail", fmt.Sprintf(format, v...)))
	}
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
