package proxy

import (
	"net/http"
	"testing"
)

func TestIsStream(t *testing.T) {
	for _, tc := range []struct {
		status int
		ct     string
		length int64
		want   bool
	}{
		{200, "text/event-stream", 0, true},
		{200, "text/event-stream; charset=utf-8", 0, true},
		{200, " Text/Event-Stream ;charset=utf-8", 0, true},
		{200, "text/event-streams", 100, false},
		{200, "text/html", 100, false},
		{200, "", 100, false},
		{200, "text/html", -1, true}, // length unknown: chunked, maybe endless
		{http.StatusSwitchingProtocols, "text/event-stream", -1, false},
	} {
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{}, ContentLength: tc.length}
		if tc.ct != "" {
			resp.Header.Set("Content-Type", tc.ct)
		}
		if got := isStream(resp); got != tc.want {
			t.Errorf("isStream(%d, %q, %d) = %v, want %v", tc.status, tc.ct, tc.length, got, tc.want)
		}
	}
}

func TestBufferPoolReuse(t *testing.T) {
	var p bufferPool
	b := p.Get()
	if len(b) != copyBufferSize {
		t.Fatalf("Get: len %d, want %d", len(b), copyBufferSize)
	}
	p.Put(b[:10]) // ReverseProxy may hand back a resliced buffer
	p.Put(make([]byte, 10))
	if allocs := testing.AllocsPerRun(100, func() { p.Put(p.Get()) }); allocs != 0 {
		t.Errorf("Get+Put allocates %v times, want 0", allocs)
	}
}
