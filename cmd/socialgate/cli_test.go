package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestCLI runs command lines through run and checks the exit code (0
// success, 1 runtime failure, 2 usage error) and what is printed where.
func TestCLI(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("server: { public_url: \"ftp://gate\" }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	usageLine := "Run 'socialgate "
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // each must appear
		stderr []string
	}{
		{"nothing", nil, 2, nil, []string{"usage: socialgate COMMAND", "serve ", "sessions "}},
		{"help", []string{"help"}, 0, []string{"usage: socialgate COMMAND", "check-config "}, nil},
		{"-h", []string{"-h"}, 0, []string{"usage: socialgate COMMAND"}, nil},
		{"--help", []string{"--help"}, 0, []string{"usage: socialgate COMMAND"}, nil},
		{"help serve", []string{"help", "serve"}, 0, []string{"usage: socialgate serve --config FILE", "-config file"}, nil},
		{"help sessions", []string{"help", "sessions"}, 0, []string{"usage: socialgate sessions list|revoke", "revoke "}, nil},
		{"help -h", []string{"help", "-h"}, 0, []string{"usage: socialgate COMMAND"}, nil},
		{"help unknown", []string{"help", "frobnicate"}, 2, nil, []string{`unknown command "frobnicate"`, usageLine + "help -h'"}},
		{"unknown command", []string{"frobnicate"}, 2, nil, []string{`unknown command "frobnicate"`, "usage: socialgate COMMAND"}},
		{"serve -h", []string{"serve", "-h"}, 0, []string{"usage: socialgate serve", "-config"}, nil},
		{"serve without config", []string{"serve"}, 2, nil, []string{"--config is required", usageLine + "serve -h'"}},
		{"flags without command", []string{"--config"}, 2, nil, []string{"flag needs an argument: -config"}},
		{"unknown flag", []string{"--frobnicate"}, 2, nil, []string{"flag provided but not defined: -frobnicate", usageLine + "serve -h'"}},
		{"serve stray argument", []string{"serve", "--config", missing, "now"}, 2, nil, []string{`unexpected argument "now"`}},
		{"serve missing file", []string{"serve", "--config", missing}, 1, nil, []string{"missing.yaml"}},
		{"serve invalid config", []string{"--config", bad}, 1, nil, []string{bad + ":1: server.public_url"}},
		{"check-config -h", []string{"check-config", "-h"}, 0, []string{"usage: socialgate check-config", "-connect", "-timeout"}, nil},
		{"check-config without config", []string{"check-config"}, 2, nil, []string{"--config is required"}},
		{"check-config missing file", []string{"check-config", "--config", missing}, 1, []string{missing + ":1:"}, nil},
		{"check-config invalid", []string{"check-config", "--config", bad}, 1, []string{bad + ":1: server.public_url"}, nil},
		{"check-config bad timeout", []string{"check-config", "--config", bad, "--timeout", "0s"}, 2, nil, []string{"--timeout must be positive"}},
		{"demo -h", []string{"demo", "-h"}, 0, []string{"usage: socialgate demo", "-addr"}, nil},
		{"demo bad flag", []string{"demo", "--addr"}, 2, nil, []string{"flag needs an argument: -addr"}},
		{"sessions", []string{"sessions"}, 2, nil, []string{"want 'list' or 'revoke'", usageLine + "sessions -h'"}},
		{"sessions -h", []string{"sessions", "-h"}, 0, []string{"usage: socialgate sessions", "list ", "revoke "}, nil},
		{"sessions list -h", []string{"sessions", "list", "-h"}, 0, []string{"usage: socialgate sessions list", "-user", "-all"}, nil},
		{"sessions revoke -h", []string{"sessions", "revoke", "-h"}, 0, []string{"usage: socialgate sessions revoke", "-user", "-all"}, nil},
		{"version", []string{"version"}, 0, []string{"socialgate ", "revision ", "time ", runtime.Version()}, nil},
		{"--version", []string{"--version"}, 0, []string{"socialgate ", "revision "}, nil},
		{"version -h", []string{"version", "-h"}, 0, []string{"usage: socialgate version"}, nil},
		{"version stray argument", []string{"version", "now"}, 2, nil, []string{`unexpected argument "now"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			// Help goes to stdout when asked for, errors to stderr.
			if code == 0 && errOut != "" {
				t.Errorf("stderr %q, want nothing on success", errOut)
			}
			if code == 2 && out != "" {
				t.Errorf("stdout %q, want nothing on a usage error", out)
			}
		})
	}
}

// TestHelpListsEveryCommand: one line per command, each with its summary,
// and every command answers -h with its own usage line.
func TestHelpListsEveryCommand(t *testing.T) {
	_, out, _ := runCLI("help")
	for _, cmd := range commands() {
		line := ""
		for l := range strings.Lines(out) {
			if f := strings.Fields(l); len(f) > 0 && f[0] == cmd.name {
				line = l
			}
		}
		if line == "" || !strings.Contains(line, cmd.summary) {
			t.Errorf("help has no line for %s with its summary:\n%s", cmd.name, out)
		}
		if cmd.name == "help" {
			continue
		}
		code, hout, _ := runCLI(cmd.name, "-h")
		if code != 0 || !strings.HasPrefix(hout, "usage: socialgate "+cmd.name) {
			t.Errorf("%s -h: exit %d, stdout %q", cmd.name, code, hout)
		}
	}
}

// TestBinary builds the command as `make build` does and runs it: the exit
// codes reach the shell, the version carries the stamped revision, and a
// command against a Redis that is not there prints one line, without
// go-redis's own log lines (main's process-wide logger).
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary with the go tool: not in the -short tier")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	bin := filepath.Join(t.TempDir(), "socialgate")
	const rev = "0123456789abcdef0123456789abcdef01234567"
	build := exec.Command(goTool, "build", "-o", bin, "-ldflags",
		"-X main.stampVersion=v9.9.9-test -X main.stampRevision="+rev+" -X main.stampTime=2026-01-02T03:04:05Z", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// A Redis address where nothing listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close()
	cfg := writeConfig(t, cliConfig{redisAddr: deadAddr})

	for _, tt := range []struct {
		args   []string
		code   int
		stdout string
		lines  int // stderr lines, -1: any
	}{
		{nil, 2, "", -1},
		{[]string{"--help"}, 0, "socialgate: social login in front of any web app\n\nusage: socialgate COMMAND", 0},
		{[]string{"version"}, 0, "socialgate v9.9.9-test\nrevision   " + rev + "\ntime       2026-01-02T03:04:05Z\n", 0},
		{[]string{"serve"}, 2, "", 2},
		{[]string{"sessions", "list", "--config", cfg, "--user", "kakao:1"}, 1, "", 1},
		{[]string{"sessions", "revoke", "--config", cfg, "--all"}, 1, "", 1},
	} {
		cmd := exec.Command(bin, tt.args...)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d\nstderr: %s", tt.args, code, tt.code, errb.String())
		}
		if !strings.HasPrefix(out.String(), tt.stdout) {
			t.Errorf("%v: stdout %q, want it to start with %q", tt.args, out.String(), tt.stdout)
		}
		if n := strings.Count(errb.String(), "\n"); tt.lines >= 0 && n != tt.lines {
			t.Errorf("%v: %d lines on stderr, want %d:\n%s", tt.args, n, tt.lines, errb.String())
		}
	}
}
