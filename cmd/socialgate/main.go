// Command socialgate is a social-login gateway: it runs the OAuth 2.0
// authorization-code flow against Google, Naver and Kakao in front of web
// apps that have no login of their own, and proxies to them with identity
// headers they can trust.
//
//	socialgate serve --config FILE      run the gateway (also: socialgate --config FILE)
//	socialgate demo [--addr ADDR]        everything in one process, no secrets, no Redis
//	socialgate check-config --config FILE
//	socialgate sessions list|revoke --config FILE (--user PROVIDER:SUBJECT | --all)
//	socialgate version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/socialgate/socialgate/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, stderr)
	case "demo":
		err = demo(ctx, args, stdout, stderr)
	case "check-config":
		return checkConfig(args, stdout, stderr)
	case "sessions":
		err = sessions(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "socialgate", version())
	case "help", "-h", "--help":
		usage(stdout)
	default:
		fmt.Fprintf(stderr, "socialgate: unknown command %q\n\n", cmd)
		usage(stderr)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "socialgate:", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  socialgate serve --config FILE       run the gateway (also: socialgate --config FILE)
  socialgate demo [--addr 127.0.0.1:4180]
                                       the whole flow in one process: fake Google/Naver/Kakao,
                                       a sample app, no secrets, no Redis
  socialgate check-config --config FILE
  socialgate sessions list   --config FILE --user PROVIDER:SUBJECT
  socialgate sessions revoke --config FILE (--user PROVIDER:SUBJECT | --all)
  socialgate version
`)
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration `file` (YAML)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("serve: --config is required")
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.Log.Level)
	redis.SetLogger(redisLog{log}) // go-redis has one process-wide logger
	for _, w := range cfg.Warnings() {
		log.Warn("config", slog.String("warning", w.String()))
	}
	gw, err := newGateway(cfg, log)
	if err != nil {
		return err
	}
	defer gw.Close()
	log.Info("socialgate starting", slog.String("version", version()), slog.String("listen", cfg.Server.Listen))
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return runGateway(ctx, *path, gw, log, hup)
}

// checkConfig prints every problem as FILE:LINE: key.path: message.
func checkConfig(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration `file` (YAML)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *path == "" {
		fmt.Fprintln(stderr, "check-config: --config is required")
		return 2
	}
	cfg, err := config.Load(*path)
	var problems config.Problems
	switch {
	case errors.As(err, &problems):
		for _, p := range problems {
			fmt.Fprintln(stdout, p.String())
		}
		return 1
	case err != nil:
		fmt.Fprintf(stdout, "%s:1: %v\n", *path, err)
		return 1
	}
	if ps := checkUI(cfg); len(ps) > 0 {
		for _, p := range ps {
			fmt.Fprintln(stdout, p.String())
		}
		return 1
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(stderr, "warning: "+w.String())
	}
	fmt.Fprintf(stderr, "%s: ok\n", *path)
	return 0
}

// redisLog sends go-redis's own messages (failed dials, Sentinel switches)
// to the JSON log instead of plain lines on stderr.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client", slog.String("detail", fmt.Sprintf(format, v...)))
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// version is the module version the binary was built from, or "(devel)".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
