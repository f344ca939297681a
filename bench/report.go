package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Budgets from the issue "Prove it is fast": CPU per authenticated proxied
// GET relative to the bare proxy, p99 latency relative to it, and peak RSS
// with many sessions in the memory store.
const (
	budgetCPURedis  = 1.30
	budgetCPUMemory = 1.15
	budgetP99       = 1.50
	budgetRSS       = 64 << 20
)

// printRound prints one round's table, with ratios to the bare proxy of
// the same round.
func printRound(out io.Writer, round int, rows []result) {
	fmt.Fprintf(out, "round %d\n", round)
	bare, hasBare := find(rows, "bare")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\treq/s\tp50\tp99\tCPU µs/req\tpeak RSS\tCPU ×bare\tp99 ×bare\terrors\t+redis µs/req\t")
	for _, r := range rows {
		cpuX, p99X := "-", "-"
		if hasBare {
			cpuX = fmt.Sprintf("%.2f", ratio(r.cpuPerReq(0), bare.cpuPerReq(0)))
			p99X = fmt.Sprintf("%.2f", ratio(r.p99, bare.p99))
		}
		redisCPU := ""
		if len(r.cpu) > 1 {
			redisCPU = fmt.Sprintf("%.1f", us(r.cpuPerReq(1)))
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%.1f\t%s\t%s\t%s\t%d\t%s\t\n", r.target, r.rps(),
			ms(r.p50), ms(r.p99), us(r.cpuPerReq(0)), mib(r.hwm), cpuX, p99X, r.errs, redisCPU)
	}
	tw.Flush()
	fmt.Fprintln(out)
}

// printSummary prints the mean ratio of each target to the bare proxy over
// the rounds, against the budget, and to bare-pool when it ran.
func printSummary(out io.Writer, rounds [][]result) {
	type acc struct {
		cpu, p99, us, pool float64
		n                  int
	}
	sums := map[string]*acc{}
	var order []string
	for _, row := range rounds {
		bare, ok := find(row, "bare")
		if !ok {
			return
		}
		pool, hasPool := find(row, "bare-pool")
		for _, r := range row {
			a := sums[r.target]
			if a == nil {
				a = &acc{}
				sums[r.target] = a
				order = append(order, r.target)
			}
			a.cpu += ratio(r.cpuPerReq(0), bare.cpuPerReq(0))
			a.p99 += ratio(r.p99, bare.p99)
			a.us += us(r.cpuPerReq(0))
			if hasPool {
				a.pool += ratio(r.cpuPerReq(0), pool.cpuPerReq(0))
			}
			a.n++
		}
	}
	fmt.Fprintf(out, "mean over %d round(s), ratios to the bare proxy of the same round:\n", len(rounds))
	for _, t := range order {
		if t == "bare" {
			continue
		}
		a := sums[t]
		n := float64(a.n)
		cpu, p99 := a.cpu/n, a.p99/n
		var budget string
		switch {
		case t == "memory":
			budget = fmt.Sprintf(" (budget %.2f×: %s)", budgetCPUMemory, verdict(cpu <= budgetCPUMemory))
		case strings.HasPrefix(t, "redis"):
			budget = fmt.Sprintf(" (budget %.2f×: %s)", budgetCPURedis, verdict(cpu <= budgetCPURedis))
		}
		var vsPool string
		if a.pool > 0 && t != "bare-pool" {
			vsPool = fmt.Sprintf(", %.2f× bare-pool", a.pool/n)
		}
		fmt.Fprintf(out, "  %-12s CPU %6.1f µs/req = %.2f× bare%s%s;  p99 %.2f× bare (budget %.2f×: %s)\n",
			t, a.us/n, cpu, budget, vsPool, p99, budgetP99, verdict(p99 <= budgetP99))
	}
}

// printBearerVsCookie compares the bearer target (a cached JWT access
// token) with the memory target (the session cookie) round by round: the
// issue's budget is that a reused token costs no more than the cookie.
func printBearerVsCookie(out io.Writer, rounds [][]result) {
	var ratios, tokUS, cookieUS float64
	n := 0
	for _, row := range rounds {
		tok, ok1 := find(row, "bearer")
		ck, ok2 := find(row, "memory")
		if !ok1 || !ok2 {
			continue
		}
		ratios += ratio(tok.cpuPerReq(0), ck.cpuPerReq(0))
		tokUS += us(tok.cpuPerReq(0))
		cookieUS += us(ck.cpuPerReq(0))
		n++
	}
	if n == 0 {
		return
	}
	f := float64(n)
	fmt.Fprintf(out, "bearer token vs session cookie (memory store): CPU %.1f vs %.1f µs/req = %.2f×\n",
		tokUS/f, cookieUS/f, ratios/f)
}

func find(rows []result, target string) (result, bool) {
	for _, r := range rows {
		if r.target == target {
			return r, true
		}
	}
	return result{}, false
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "OVER"
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
