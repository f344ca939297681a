package proxy

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// requestURL parses target as a server would from a request line, or falls
// back to a hand-built URL for targets net/url refuses (handlers built by
// other code may still hand us those).
func requestURL(t testing.TB, target string) *url.URL {
	t.Helper()
	if u, err := url.ParseRequestURI(target); err == nil {
		return u
	}
	return &url.URL{Path: target, RawPath: target}
}

func TestCleanPathAccepts(t *testing.T) {
	tests := []struct {
		target string
		want   string
	}{
		{"/", "/"},
		{"/a/b", "/a/b"},
		{"/a/b/", "/a/b/"},
		{"/a//b", "/a/b"},
		{"//private", "/private"},
		{"///private//", "/private/"},
		{"/public/../private", "/private"},
		{"/public/./x", "/public/x"},
		{"/a/b/..", "/a"},
		{"/a/b/../", "/a/"},
		{"/a/b/.", "/a/b"},
		{"/../../etc/passwd", "/etc/passwd"},
		{"/..", "/"},
		{"/app/보고서", "/app/보고서"},
		{"/app/%EB%B3%B4%EA%B3%A0%EC%84%9C", "/app/보고서"},
		{"/app/%eb%b3%b4%ea%b3%a0%ec%84%9c/", "/app/보고서/"},
		{"/public%23x", "/public#x"},
		{"/wiki/What%3F", "/wiki/What?"},
		{"/a%20b", "/a b"},
		{"/a;jsessionid=1", "/a;jsessionid=1"},
		{"/a;x/../b", "/b"},
		{"/file%2etxt", "/file.txt"},
		{"/.well-known/x", "/.well-known/x"},
		{"/a/..b/c", "/a/..b/c"},
		{"/a/%25", "/a/%"},

		{"/legacy/%B1%E8", "/legacy/\xb1\xe8"},
		{"/a?q=../..", "/a"},
	}
	for _, tt := range tests {
		got, err := cleanPath(requestURL(t, tt.target))
		if err != nil || got != tt.want {
			t.Errorf("cleanPath(%q) = %q, %v; want %q, nil", tt.target, got, err, tt.want)
		}
	}
}

func TestCleanPathRefuses(t *testing.T) {
	tests := []struct {
		target string
		want   error
	}{
		{"/public%2f..%2fprivate", errPathEncodedSlash},
		{"/public%2F..%2Fprivate", errPathEncodedSlash},
		{"/a%2fb", errPathEncodedSlash},
		{"/public%5c..", errPathEncodedSlash},
		{"/public%5C..%5Cprivate", errPathEncodedSlash},
		{`/public\..\private`, errPathBackslash},
		{`/a\b`, errPathBackslash},
		{"/public/%00", errPathControl},
		{"/public/%0a/x", errPathControl},
		{"/public/%0D%0AX-Injected:1", errPathControl},
		{"/a%09b", errPathControl},
		{"/a%1f", errPathControl},
		{"/a%7F", errPathControl},
		{"/a\x00b", errPathControl},
		{"/a\nb", errPathControl},
		{"/a\x7fb", errPathControl},
		{"/public/..;/private", errPathDotSegment},
		{"/public/..;x/private", errPathDotSegment},
		{"/public/.;x/private", errPathDotSegment},
		{"/public/.;/private", errPathDotSegment},
		{"/..;/private", errPathDotSegment},
		{"/public/..%3b/private", errPathDotSegment},
		{"/public/..%3B/private", errPathDotSegment},
		{"/public/%2e%2e/private", errPathDotSegment},
		{"/public/%2E%2E/private", errPathDotSegment},
		{"/public/.%2e/private", errPathDotSegment},
		{"/public/%2e./private", errPathDotSegment},
		{"/public/%2e/private", errPathDotSegment},
		{"/public/%2e%2e", errPathDotSegment},
		{"/public/%2e%2e;x/private", errPathDotSegment},
		{"/public/.../private", errPathDotSegment},
		{"/public/..%20/private", errPathDotSegment},
		{"/public/. ./private", errPathDotSegment},
		{"/a%zz", errPathEscape},
		{"/a%", errPathEscape},
		{"/a%4", errPathEscape},
		{"/a%g0", errPathEscape},
		{"/a%%41", errPathEscape},
		{"/a%252fb", errPathDoubleEncode},
		{"/a%252F..%252Fb", errPathDoubleEncode},
		{"/a%255cb", errPathDoubleEncode},
		{"/a/%252e%252e/b", errPathDoubleEncode},
		{"/a%2500", errPathDoubleEncode},
		{"/a/%2541", errPathDoubleEncode},
		{"/%2570rivate", errPathDoubleEncode},
		{"/priv%2561te/x", errPathDoubleEncode},
		{"/%25EF%25BD%2590rivate", errPathDoubleEncode},
		{"/a/%25%32%65%25%32%65/b", errPathDoubleEncode},
	}
	for _, tt := range tests {
		got, err := cleanPath(requestURL(t, tt.target))
		if !errors.Is(err, tt.want) {
			t.Errorf("cleanPath(%q) = %q, %v; want error %v", tt.target, got, err, tt.want)
		}
	}
}

func TestCleanPathURLShapes(t *testing.T) {
	tests := []struct {
		name    string
		u       *url.URL
		want    string
		wantErr error
	}{
		{"empty", &url.URL{}, "/", nil},
		{"relative", &url.URL{Path: "a/b"}, "/a/b", nil},
		{"stale raw path", &url.URL{Path: "/a/b", RawPath: "/x%2fy"}, "/a/b", nil},
		{"path with raw newline", &url.URL{Path: "/a\nb"}, "", errPathControl},
		{"path with percent", &url.URL{Path: "/100%"}, "/100%", nil},
		{"opaque", &url.URL{Scheme: "http", Opaque: "x"}, "", errPathOpaque},
		{"absolute form", mustParse(t, "http://gate.example/a/../b"), "/b", nil},
	}
	for _, tt := range tests {
		got, err := cleanPath(tt.u)
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: cleanPath = %q, %v; want %q, %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func mustParse(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", s, err)
	}
	return u
}

// TestCleanPathNeverReachesPublic: with only /public public, none of these
// may be routed as /public (refused, or cleaned to somewhere else).
func TestCleanPathNeverReachesPublic(t *testing.T) {
	attacks := []string{
		"/public/../private",
		"/public%2f..%2fprivate",
		"//private",
		"/public/..;/private",
		"/public%23x",
		"/public%5c..",
		"/public/%00",
		"/public/%2e%2e/private",
		"/public/..%2fprivate",
		"/public/..%5cprivate",
		"/public/.%2e/private",
		"/public%3F/../private",
		"/publicx",
		"/public..",
		"/public/%252e%252e/private",
	}
	for _, a := range attacks {
		got, err := cleanPath(requestURL(t, a))
		if err == nil && pathHasPrefix(got, "/public") {
			t.Errorf("cleanPath(%q) = %q, which falls under /public", a, got)
		}
	}
}

func TestPathHasPrefix(t *testing.T) {
	tests := []struct {
		p, pre string
		want   bool
	}{
		{"/", "/", true},
		{"/anything/at/all", "/", true},
		{"/x", "", true},
		{"/app", "/app", true},
		{"/app/", "/app", true},
		{"/app/x", "/app", true},
		{"/app;jsessionid=1", "/app", true},
		{"/apple", "/app", false},
		{"/ap", "/app", false},
		{"/", "/app", false},
		{"/app", "/app/", true},
		{"/app/x", "/app/", true},
		{"/apple", "/app/", false},
		{"/App", "/app", false},
		{"/app#x", "/app", false},
		{"/앱/보고서", "/앱", true},
		{"/앱보고서", "/앱", false},
	}
	for _, tt := range tests {
		if got := pathHasPrefix(tt.p, tt.pre); got != tt.want {
			t.Errorf("pathHasPrefix(%q, %q) = %v, want %v", tt.p, tt.pre, got, tt.want)
		}
	}
}

func TestCleanPathNoAllocWhenClean(t *testing.T) {
	u := mustParse(t, "/app/reports/2024/index.html")
	if n := testing.AllocsPerRun(100, func() { _, _ = cleanPath(u) }); n != 0 {
		t.Errorf("cleanPath of a clean path: got %v allocs, want 0", n)
	}
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{
		"/", "/a/b/", "//x", "/public/../private", "/public%2f..%2fprivate",
		"/public/..;/private", "/public%23x", "/public%5c..", "/public/%00",
		"/app/보고서", "/app/%EB%B3%B4", "/a/%2e%2e/", "/a%252f", "/a/%25%32%65",
		"/a b/./c/../", "/.;/x", "/a;b/../c", "a/b", "/%", "/a\\b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		urls := []*url.URL{{Path: s}, {Path: s, RawPath: s}}
		if u, err := url.ParseRequestURI(s); err == nil {
			urls = append(urls, u)
		}
		for _, u := range urls {
			got, err := cleanPath(u)
			if err != nil {
				continue
			}
			checkCleaned(t, s, got)
			// The lead forwards got as outURL.Path; the upstream, or this
			// gateway behind another, must read the same path back.
			again, err := cleanPath(&url.URL{Path: got})
			if err != nil || again != got {
				t.Fatalf("cleanPath(%q) = %q, but cleaning that gives %q, %v", s, got, again, err)
			}
			wire, err := url.ParseRequestURI((&url.URL{Path: got}).EscapedPath())
			if err != nil {
				t.Fatalf("cleaned %q does not re-encode: %v", got, err)
			}
			if again, err := cleanPath(wire); err != nil || again != got {
				t.Fatalf("cleaned %q, sent as %q, cleans to %q, %v", got, wire, again, err)
			}
		}
	})
}

func checkCleaned(t *testing.T, in, got string) {
	t.Helper()
	switch {
	case !strings.HasPrefix(got, "/"):
		t.Fatalf("cleanPath(%q) = %q, does not start with /", in, got)
	case strings.Contains(got, "//"):
		t.Fatalf("cleanPath(%q) = %q, contains //", in, got)
	case strings.Contains(got, "/../") || strings.HasSuffix(got, "/.."):
		t.Fatalf("cleanPath(%q) = %q, contains a .. segment", in, got)
	case strings.Contains(got, "/./") || strings.HasSuffix(got, "/."):
		t.Fatalf("cleanPath(%q) = %q, contains a . segment", in, got)
	case strings.ContainsRune(got, '\\'):
		t.Fatalf("cleanPath(%q) = %q, contains a backslash", in, got)
	}
	for i := 0; i < len(got); i++ {
		if c := got[i]; c < 0x20 || c == 0x7f {
			t.Fatalf("cleanPath(%q) = %q, contains control byte %#x", in, got, c)
		}
	}
}
