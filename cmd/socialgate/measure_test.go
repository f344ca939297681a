package main

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/session"
)

// TestMeasureWebSocketCost reports what 1,000 open WebSockets cost the
// gateway: goroutines and memory (heap and stacks) per connection, with
// every connection registered and watched for the end of its session.
// The app's own cost is measured first on its own and subtracted. It
// only runs with SOCIALGATE_MEASURE=1: a measurement, not a check.
func TestMeasureWebSocketCost(t *testing.T) {
	if os.Getenv("SOCIALGATE_MEASURE") != "1" {
		t.Skip("set SOCIALGATE_MEASURE=1 to measure")
	}
	const n = 1000
	app := wsEcho(t)
	s := serveConfig(t, servedConfig{upstream: app.URL})
	_, cookie := s.login("/")

	snapshot := func() (int, uint64) {
		var ms runtime.MemStats
		for range 3 {
			runtime.GC()
			time.Sleep(100 * time.Millisecond)
		}
		runtime.ReadMemStats(&ms)
		return runtime.NumGoroutine(), ms.HeapInuse + ms.StackInuse
	}
	open := func(base string) []*wsClient {
		var cs []*wsClient
		for range n {
			c, err := dialWS(base, "/chat", cookie)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if got := c.text(t); !strings.HasPrefix(got, "user=") {
				t.Fatalf("first frame %q", got)
			}
			cs = append(cs, c)
		}
		return cs
	}
	closeAll := func(cs []*wsClient) {
		for _, c := range cs {
			c.Close()
		}
		time.Sleep(time.Second)
	}

	g0, m0 := snapshot()
	direct := open(app.URL)
	g1, m1 := snapshot()
	closeAll(direct)

	g2, m2 := snapshot()
	through := open(s.URL)
	g3, m3 := snapshot()
	if got := s.metric("socialgate_upgraded_connections"); got != "1000" {
		t.Errorf("socialgate_upgraded_connections = %s", got)
	}
	closeAll(through)

	appG, appM := float64(g1-g0)/n, float64(int64(m1)-int64(m0))/n
	allG, allM := float64(g3-g2)/n, float64(int64(m3)-int64(m2))/n
	t.Logf("%d WebSockets: app alone %.2f goroutines and %.0f bytes each; through the gateway %.2f goroutines and %.0f bytes each",
		n, appG, appM, allG, allM)
	t.Logf("the gateway's share per WebSocket: %.2f goroutines, %.1f KiB (heap + stacks)", allG-appG, (allM-appM)/1024)

	// The watch alone: n sessions, each watched.
	mgr, err := session.NewManager(session.ManagerOptions{Store: session.NewMemory(session.MemoryOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	var ss []*session.Session
	for i := range n {
		sess, err := mgr.Create(context.Background(), &session.Session{Provider: "kakao", Subject: strconv.Itoa(i)}, "")
		if err != nil {
			t.Fatal(err)
		}
		ss = append(ss, sess)
	}
	g4, m4 := snapshot()
	var stops []func()
	for _, sess := range ss {
		stops = append(stops, mgr.Watch(sess, func() {}))
	}
	g5, m5 := snapshot()
	t.Logf("of which the session watch: %.2f goroutines, %.0f bytes per watched connection",
		float64(g5-g4)/n, float64(int64(m5)-int64(m4))/n)
	for _, stop := range stops {
		stop()
	}
}
