package proxy

import (
	"net/url"
	"strings"
	"testing"
)

func normTestPolicy(t testing.TB) *policy {
	u := &url.URL{Scheme: "http", Host: "127.0.0.1:9"}
	p, err := newPolicy([]Route{
		{Name: "site", Path: "/", URL: u, Public: true},
		{Name: "private", Path: "/private", URL: u},
		{Name: "hangul", Path: "/비공개", URL: u},
		{Name: "docs", Path: "/docs/private/", URL: u},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPathAmbiguous(t *testing.T) {
	p := normTestPolicy(t)
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"/private", false}, {"/public", false}, {"/a b", false}, {"/보고서", false},
		{"/ｐrivate", true}, {"/private ", true}, {"/private.", true}, {"/private./x", true},
		{"/ private", true}, {"/private\u200b", true}, {"/private\u3000", true},
		{"/\u1107\u1175\u1100\u1169\u11bc\u1100\u1162", true}, // NFD 비공개
		{"/files/report.", false}, {"/ｆiles", false},
		// Past the end of every prefix, readings cannot route elsewhere.
		{"/docs/ｐrivate", true}, {"/docs/private\u200b/x", true}, {"/docs/private/ｘ", false},
		{"/docs/private/x/ｐrivate ", false},
		// Readings that make a dot-segment climb out of any route, even
		// past every prefix: trimmed "..\u200b", NFKC "．．" halves.
		{"/docs/private/..\u200b/admin", true}, {"/files/.. /x", true},
		{"/files/\u2024\u2024/x", true}, {"/files/a\u200b/x", false},
	} {
		rt := p.match("", tc.path)
		if got := p.ambiguous("", tc.path, rt); got != tc.want {
			t.Errorf("ambiguous(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestPathAmbiguousDoesNotAllocate(t *testing.T) {
	p := normTestPolicy(t)
	for _, path := range []string{"/app/page.html", "/app/보고서/2024", "/위키/대문"} {
		rt := p.match("", path)
		if n := testing.AllocsPerRun(100, func() { p.ambiguous("", path, rt) }); n != 0 {
			t.Errorf("%s: %v allocations", path, n)
		}
	}
}

// FuzzPathAmbiguous: a path ambiguous() lets through routes the same way
// under every reading; readingsFrom never skips a path that a reading
// changes, and no reading changes what comes before the segment it points
// at (ambiguous skips policies whose prefixes all end there).
func FuzzPathAmbiguous(f *testing.F) {
	for _, s := range []string{"/private", "/ｐrivate", "/private ", "/비공개", "/a.b/c. ", "/x\u200b"} {
		f.Add(s)
	}
	p := normTestPolicy(f)
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" || s[0] != '/' {
			return
		}
		rt := p.match("", s)
		amb := p.ambiguous("", s, rt)
		from := readingsFrom(s)
		for _, alt := range pathReadings(s) {
			if from < 0 && alt != s {
				t.Fatalf("readingsFrom(%q) = -1, but a reading is %q", s, alt)
			}
			if from >= 0 {
				stable := s[:strings.LastIndexByte(s[:from], '/')+1]
				if !strings.HasPrefix(alt, stable) {
					t.Fatalf("reading %q of %q changes %q, before byte %d", alt, s, stable, from)
				}
			}
			if !amb && p.match("", alt) != rt {
				t.Fatalf("%q not ambiguous, but its reading %q routes elsewhere", s, alt)
			}
		}
	})
}
