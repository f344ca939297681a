package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/socialgate/socialgate/config"
)

// cli is one invocation: where its output goes, and go-redis's logger when
// main installed one.
type cli struct {
	stdout, stderr io.Writer
	redisLog       *redisLog
}

// command is one subcommand as the help lists it.
type command struct {
	name    string
	args    string // what follows the name in its usage line
	summary string // one line for `socialgate help`
	run     func(c *cli, ctx context.Context, args []string) error
}

// commands are socialgate's subcommands in the order help lists them.
func commands() []command {
	return []command{
		{"serve", "--config FILE", "run the gateway (also: socialgate --config FILE)", (*cli).serve},
		{"demo", "[--addr 127.0.0.1:4180]", "the whole flow in one process: fake Google/Naver/Kakao, a sample app, no secrets, no Redis", (*cli).demo},
		{"check-config", "--config FILE [--connect]", "validate a config file; --connect also asks the store and each provider", (*cli).checkConfig},
		{"sessions", "list|revoke --config FILE (--user PROVIDER:SUBJECT | --user sg_… | --all)", "list or end live sessions in the Redis store", (*cli).sessions},
		{"version", "", "print the version, VCS revision and build time", (*cli).version},
		{"help", "[COMMAND]", "list the commands, or show one command's flags", (*cli).help},
	}
}

func lookup(name string) (command, bool) {
	for _, cmd := range commands() {
		if cmd.name == name {
			return cmd, true
		}
	}
	return command{}, false
}

// usageError is a command line that cannot run (exit 2). The message says
// what is wrong; run adds where to read how it is called.
type usageError struct{ cmd, msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(cmd, format string, v ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, v...)}
}

// reported is a runtime failure the command already printed (exit 1).
type reported struct{}

func (reported) Error() string { return "reported" }

// run dispatches a command line and returns the exit code: 0 success, 1 a
// runtime failure, 2 a usage error.
func (c *cli) run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		c.usage(c.stderr)
		return 2
	}
	name := args[0]
	switch {
	case name == "-h" || name == "-help" || name == "--help":
		name, args = "help", nil
	case name == "-version" || name == "--version":
		name, args = "version", nil
	case strings.HasPrefix(name, "-"):
		name = "serve" // socialgate --config FILE
	default:
		args = args[1:]
	}
	cmd, ok := lookup(name)
	if !ok {
		fmt.Fprintf(c.stderr, "socialgate: unknown command %q\n\n", name)
		c.usage(c.stderr)
		return 2
	}
	return c.exit(cmd.run(c, ctx, args))
}

// exit maps a command's error to the exit code and prints it: one line,
// or one line per problem of an invalid config (FILE:LINE: key: problem).
func (c *cli) exit(err error) int {
	var (
		ue       *usageError
		problems config.Problems
	)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "socialgate %s: %s\nRun 'socialgate %s -h' for usage.\n", ue.cmd, ue.msg, ue.cmd)
		return 2
	case errors.Is(err, reported{}):
		return 1
	case errors.As(err, &problems):
		for _, p := range problems {
			fmt.Fprintln(c.stderr, oneLine(p.String()))
		}
		return 1
	default:
		fmt.Fprintln(c.stderr, "socialgate:", oneLine(err.Error()))
		return 1
	}
}

// oneLine keeps an error on one line: a wrapped library error may carry
// newlines that would read as separate messages.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprintln(w, "socialgate: social login in front of any web app\n\nusage: socialgate COMMAND [flags]\n\ncommands:")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-14s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(w, "\nRun 'socialgate COMMAND -h' for a command's flags.\nExit codes: 0 success, 1 failure, 2 usage error.")
}

// help lists the commands, or shows one command's flags.
func (c *cli) help(_ context.Context, args []string) error {
	switch len(args) {
	case 0:
		c.usage(c.stdout)
		return nil
	case 1:
		if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
			c.usage(c.stdout)
			return nil
		}
		cmd, ok := lookup(args[0])
		if !ok {
			return usagef("help", "unknown command %q", args[0])
		}
		return cmd.run(c, context.Background(), []string{"-h"})
	default:
		return usagef("help", "want at most one command, got %q", strings.Join(args, " "))
	}
}

// flags is the flag set of the command name; its -h prints the usage line,
// the summary and the flags.
func (c *cli) flags(name string) *flag.FlagSet {
	cmd, _ := lookup(name)
	return c.flagSet(name, cmd.args, cmd.summary)
}

// flagSet is a flag set named name ("sessions list") whose -h prints
// "usage: socialgate NAME ARGS", the summary and the flags.
func (c *cli) flagSet(name, args, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: socialgate %s %s\n\n%s\n", name, args, summary)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args: -h prints the usage to stdout (flag.ErrHelp, exit 0); a
// bad flag or a stray argument is a usage error (exit 2).
func (c *cli) parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard) // errors are reported once, by exit
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(c.stdout)
		fs.Usage()
		return flag.ErrHelp
	case err != nil:
		return usagef(fs.Name(), "%v", err)
	case fs.NArg() > 0:
		return usagef(fs.Name(), "unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "configuration `file` (YAML)")
}

// loadConfig loads the --config file: missing flag is a usage error, a
// file that does not load a runtime one.
func loadConfig(fs *flag.FlagSet, path string) (*config.Config, error) {
	if path == "" {
		return nil, usagef(fs.Name(), "--config is required")
	}
	return config.Load(path)
}

func (c *cli) version(_ context.Context, args []string) error {
	if err := c.parse(c.flags("version"), args); err != nil {
		return err
	}
	readBuildInfo().print(c.stdout)
	return nil
}
