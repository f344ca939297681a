package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// requestTimeout bounds one request of the load generator.
const requestTimeout = 10 * time.Second

// load is one measurement: conns workers, each on its own keep-alive
// connection, sending GETs to url as fast as answers come back.
type load struct {
	url     string
	cookies []string // Cookie header values, used in turn; empty: none
	// authorization, when set, is sent as the Authorization header.
	authorization string
	status        int // the answer every request must get
	conns         int
	warmup        time.Duration
	measure       time.Duration
	pids          []int // processes whose CPU time is measured; [0] is the target
	// send, when set, replaces the GET: one unit of work (a whole login)
	// by worker w on its i-th turn.
	send func(ctx context.Context, c *http.Client, i int) error
}

// result is what a measurement found.
type result struct {
	target  string
	n       int           // requests answered within the window
	errs    int           // failed or wrong status within the window
	elapsed time.Duration // length of the window
	cpu     []time.Duration
	p50     time.Duration
	p99     time.Duration
	hwm     int64 // peak RSS of pids[0], bytes
	rss     int64
}

func (r result) rps() float64 { return float64(r.n) / r.elapsed.Seconds() }

// cpuPerReq is the CPU time of pids[i] per answered request.
func (r result) cpuPerReq(i int) time.Duration {
	if r.n == 0 || i >= len(r.cpu) {
		return 0
	}
	return r.cpu[i] / time.Duration(r.n)
}

// run drives the load: warm-up, then a measured window during which
// answered requests, their latencies and the CPU time of l.pids count.
func (l load) run(ctx context.Context) (result, error) {
	tr := &http.Transport{
		MaxIdleConns:        l.conns,
		MaxIdleConnsPerHost: l.conns,
		MaxConnsPerHost:     l.conns,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		Timeout:   requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var measuring atomic.Bool
	type tally struct {
		n, errs int
		lat     []time.Duration
		firstEr error
	}
	tallies := make([]tally, l.conns)
	var wg sync.WaitGroup
	for w := range l.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := &tallies[w]
			t.lat = make([]time.Duration, 0, 1<<14)
			for i := w; ctx.Err() == nil; i += l.conns {
				var cookie string
				if len(l.cookies) > 0 {
					cookie = l.cookies[i%len(l.cookies)]
				}
				start := time.Now()
				var err error
				if l.send != nil {
					err = l.send(ctx, client, i)
				} else {
					err = l.once(ctx, client, cookie)
				}
				d := time.Since(start)
				if !measuring.Load() {
					continue
				}
				if err != nil {
					if ctx.Err() == nil {
						t.errs++
						if t.firstEr == nil {
							t.firstEr = err
						}
					}
					continue
				}
				t.n++
				t.lat = append(t.lat, d)
			}
		}()
	}

	res := result{}
	if err := sleep(ctx, l.warmup); err != nil {
		return res, err
	}
	cpu0, err := cpuTimes(l.pids)
	if err != nil {
		return res, err
	}
	start := time.Now()
	measuring.Store(true)
	err = sleep(ctx, l.measure)
	measuring.Store(false)
	res.elapsed = time.Since(start)
	cpu1, cerr := cpuTimes(l.pids)
	cancel()
	wg.Wait()
	if err := errors.Join(err, cerr); err != nil {
		return res, err
	}
	for i := range cpu0 {
		res.cpu = append(res.cpu, cpu1[i]-cpu0[i])
	}
	if res.hwm, res.rss, err = memory(l.pids[0]); err != nil {
		return res, err
	}
	var lat []time.Duration
	var firstErr error
	for _, t := range tallies {
		res.n += t.n
		res.errs += t.errs
		lat = append(lat, t.lat...)
		if firstErr == nil {
			firstErr = t.firstEr
		}
	}
	if res.n == 0 {
		return res, fmt.Errorf("no request answered as expected: %w", firstErr)
	}
	slices.Sort(lat)
	res.p50, res.p99 = percentile(lat, 50), percentile(lat, 99)
	return res, nil
}

// once sends one GET and reads the whole answer, so the connection is
// reused.
func (l load) once(ctx context.Context, c *http.Client, cookie string) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.url, nil)
	if err != nil {
		return err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if l.authorization != "" {
		req.Header.Set("Authorization", l.authorization)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != l.status {
		return fmt.Errorf("status %d, want %d", resp.StatusCode, l.status)
	}
	return nil
}

// percentile of sorted latencies, nearest rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

func cpuTimes(pids []int) ([]time.Duration, error) {
	out := make([]time.Duration, len(pids))
	for i, pid := range pids {
		d, err := cpuTime(pid)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
