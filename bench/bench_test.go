package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name, stat string
		want       time.Duration
		wantErr    bool
	}{
		{"plain", "1234 (bench) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 8 0 100 0 0", 3 * time.Second, false},
		// The name may hold spaces and ')': fields count from the last ')'.
		{"odd name", "99 (a) b (c)) R 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 0 0", 100 * time.Millisecond, false},
		{"no name", "1234 bench S 1", 0, true},
		{"short", "1234 (bench) S 1 2 3", 0, true},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 ab 3 0", 0, true},
		{"negative", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 -5 3 0", 0, true},
	}
	for _, tt := range tests {
		got, err := parseStatCPU([]byte(tt.stat))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: got error %v, want error %v", tt.name, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseStatusMemory(t *testing.T) {
	tests := []struct {
		name, status string
		hwm, rss     int64
		wantErr      bool
	}{
		{"both", "Name:\tbench\nVmPeak:\t 9999 kB\nVmHWM:\t   30000 kB\nVmRSS:\t   20000 kB\nThreads:\t8\n", 30000 << 10, 20000 << 10, false},
		{"no rss", "VmHWM:\t 1 kB\n", 0, 0, true},
		{"bad unit", "VmHWM:\t 1 MB\nVmRSS:\t 1 kB\n", 0, 0, true},
		{"bad number", "VmHWM:\t x kB\nVmRSS:\t 1 kB\n", 0, 0, true},
	}
	for _, tt := range tests {
		hwm, rss, err := parseStatusMemory([]byte(tt.status))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: got error %v, want error %v", tt.name, err, tt.wantErr)
			continue
		}
		if hwm != tt.hwm || rss != tt.rss {
			t.Errorf("%s: got %d, %d, want %d, %d", tt.name, hwm, rss, tt.hwm, tt.rss)
		}
	}
}

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 200; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{lat, 50, 100 * time.Millisecond},
		{lat, 99, 198 * time.Millisecond},
		{lat, 100, 200 * time.Millisecond},
		{lat[:1], 99, time.Millisecond},
		{nil, 50, 0},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("p%d of %d values: got %v, want %v", tt.p, len(tt.sorted), got, tt.want)
		}
	}
}

func TestParseBenchFlags(t *testing.T) {
	tests := []struct {
		args    []string
		targets int
		wantErr bool
	}{
		{nil, 6, false},
		{[]string{"-targets", "memory,bearer"}, 2, false},
		{[]string{"-targets", "bare,redis"}, 2, false},
		{[]string{"-targets", "bare,nginx"}, 0, true},
		{[]string{"-targets", ""}, 0, true},
		{[]string{"-rounds", "0"}, 0, true},
		{[]string{"-duration", "0s"}, 0, true},
	}
	for _, tt := range tests {
		c, err := parseBenchFlags(tt.args, testWriter{t})
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: got error %v, want error %v", tt.args, err, tt.wantErr)
			continue
		}
		if err == nil && len(c.targets) != tt.targets {
			t.Errorf("%q: got targets %q, want %d", tt.args, c.targets, tt.targets)
		}
	}
}

// testWriter sends flag usage to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func TestPrintBearerVsCookie(t *testing.T) {
	row := func(tokCPU, cookieCPU time.Duration) []result {
		return []result{
			{target: "memory", n: 1000, cpu: []time.Duration{cookieCPU}},
			{target: "bearer", n: 1000, cpu: []time.Duration{tokCPU}},
		}
	}
	var b strings.Builder
	printBearerVsCookie(&b, [][]result{row(40*time.Millisecond, 50*time.Millisecond), row(60*time.Millisecond, 50*time.Millisecond)})
	if want := "CPU 50.0 vs 50.0 µs/req = 1.00×"; !strings.Contains(b.String(), want) {
		t.Errorf("got %q, want it to contain %q", b.String(), want)
	}
	b.Reset()
	printBearerVsCookie(&b, [][]result{{{target: "memory", n: 1, cpu: []time.Duration{1}}}})
	if b.Len() != 0 {
		t.Errorf("printed without a bearer target: %q", b.String())
	}
}
