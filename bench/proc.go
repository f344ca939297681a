package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux architecture Go supports (the kernel converts to
// it whatever its internal HZ).
const clockTicks = 100

// readyTimeout bounds how long a child may take to say it is serving.
const readyTimeout = 15 * time.Second

// proc is a child process that prints "ready ADDR" on stdout once it
// serves, and exits when its stdin closes.
type proc struct {
	name  string
	addr  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	logs  *capped
	done  chan struct{}
}

// startProc runs bin with args and waits for its ready line. env entries
// are added to the parent's environment.
func startProc(name, bin string, args, env []string, verbose bool) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	// If the parent dies without cleaning up, the kernel kills the child.
	// (Pdeathsig follows the forking thread; this program never ends one.)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &proc{name: name, cmd: cmd, logs: &capped{max: 64 << 10}, done: make(chan struct{})}
	if verbose {
		cmd.Stderr = io.MultiWriter(os.Stderr, p.logs)
	} else {
		cmd.Stderr = p.logs
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
				ready <- addr
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	select {
	case p.addr = <-ready:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before it was ready:\n%s", name, p.logs.String())
	case <-time.After(readyTimeout):
		p.stop()
		return nil, fmt.Errorf("%s not ready within %v:\n%s", name, readyTimeout, p.logs.String())
	}
}

// pid is the child's process ID.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// stop closes stdin (the child shuts down), and kills the child if it has
// not exited 5 s later.
func (p *proc) stop() {
	_ = p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// cpuTime is the user plus system CPU time a process has used so far, all
// threads included.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("cpu time: %w", err)
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) of /proc/PID/stat.
// The command name (field 2) is in parentheses and may hold spaces and ')',
// so fields are counted from the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("cpu time: no ')' in /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu time: %d fields after the name, want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("cpu time: field %q is not a tick count", s)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// memory returns VmHWM (peak resident set) and VmRSS of a process, in bytes.
func memory(pid int) (hwm, rss int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, fmt.Errorf("memory: %w", err)
	}
	return parseStatusMemory(b)
}

// resetPeakMemory makes VmHWM start again from the current RSS (Linux 4.0
// and later), so that a peak measured afterwards excludes set-up work.
func resetPeakMemory(pid int) error {
	if err := os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak memory: %w", err)
	}
	return nil
}

// parseStatusMemory reads the "VmHWM:  1234 kB" and "VmRSS:" lines.
func parseStatusMemory(b []byte) (hwm, rss int64, err error) {
	found := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("memory: %s: unexpected %q", key, strings.TrimSpace(val))
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 {
			return 0, 0, fmt.Errorf("memory: %s: %q is not a size", key, f[0])
		}
		if key == "VmHWM" {
			hwm = n << 10
		} else {
			rss = n << 10
		}
		found++
	}
	if found != 2 {
		return 0, 0, errors.New("memory: no VmHWM and VmRSS in /proc status")
	}
	return hwm, rss, nil
}

// loadAverage is the first three fields of /proc/loadavg, for the report.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func numCPU() int { return runtime.NumCPU() }

// capped keeps the first max bytes written to it: a child's log, shown
// when it fails.
type capped struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.String()
}
