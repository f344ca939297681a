package hostname

import (
	"errors"
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"app.example.com", "app.example.com"},
		{"App.Example.COM", "app.example.com"},
		{"app.example.com.", "app.example.com"},
		{"app.example.com:8081", "app.example.com:8081"},
		{"APP.example.com.:8081", "app.example.com:8081"},
		{"my_app.internal", "my_app.internal"}, // issue 8 item 9: check-config and serve agree
		{"my_app.internal:8080", "my_app.internal:8080"},
		{"localhost", "localhost"},
		{"127.0.0.1", "127.0.0.1"},
		{"127.0.0.1:4180", "127.0.0.1:4180"},
		{"[::1]", "[::1]"},
		{"[::1]:4180", "[::1]:4180"},
		{"[0:0::1]:4180", "[::1]:4180"},
		{"[2001:DB8::1]", "[2001:db8::1]"},
		{"위키.example.com", "xn--9q5b29o.example.com"},
		{"xn--9q5b29o.example.com", "xn--9q5b29o.example.com"},
		{"ＡＰＰ.example.com", "app.example.com"}, // fullwidth folds, as in browsers
		{"app。example。com", "app.example.com"},
		{"a-b.example", "a-b.example"},
	} {
		got, err := Canonical(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		// Canonical is idempotent.
		if again, err := Canonical(got); err != nil || again != got {
			t.Errorf("Canonical(%q) = %q, %v; not stable", got, again, err)
		}
	}
}

func TestCanonicalRefuses(t *testing.T) {
	for _, in := range []string{
		"", ":80", "evil.example'", "a:1:2", "app.example.com:", "app.example.com:0",
		"app.example.com:65536", "app.example.com:080", "app.example.com:+80", "app.example.com:8o",
		"a b.example", "a\tb", "a\x00b", "user@host", "host/path", `host\x`, "host?x", "host#x",
		"*.example.com", "a..b", ".example.com", "..", "-a.example", "a-.example",
		"xn--zz.example", // invalid punycode
		"[::1", "[::1]x", "[::1]:", "[fe80::1%eth0]", "[127.0.0.1]", "::1:80",
		"%61pp.example", "app.example.com%2f", "a\u202eb.example", "app.example.com\r\nX: y",
		strings.Repeat("a", 64) + ".example", strings.Repeat("a.", 130) + "com",
	} {
		if got, err := Canonical(in); err == nil {
			t.Errorf("Canonical(%q) = %q, want an error", in, got)
		}
	}
}

func TestCanonicalErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"", ErrEmpty}, {"a:1:2", ErrIPv6}, {"a:99999", ErrPort}, {"a'b", ErrInvalid},
	} {
		if _, err := Canonical(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("Canonical(%q) error = %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestSplitAndDefaultPort(t *testing.T) {
	for _, tc := range []struct{ in, scheme, name, port, noDefault string }{
		{"a.example:443", "https", "a.example", "443", "a.example"},
		{"a.example:443", "http", "a.example", "443", "a.example:443"},
		{"a.example:80", "http", "a.example", "80", "a.example"},
		{"[::1]:80", "http", "[::1]", "80", "[::1]"},
		{"[::1]", "http", "[::1]", "", "[::1]"},
		{"a.example", "https", "a.example", "", "a.example"},
	} {
		if n, p := Split(tc.in); n != tc.name || p != tc.port {
			t.Errorf("Split(%q) = %q, %q", tc.in, n, p)
		}
		if got := DropDefaultPort(tc.in, tc.scheme); got != tc.noDefault {
			t.Errorf("DropDefaultPort(%q, %s) = %q, want %q", tc.in, tc.scheme, got, tc.noDefault)
		}
	}
}

func TestCanonicalDoesNotAllocate(t *testing.T) {
	for _, in := range []string{"gate.example.com", "gate.example.com:8443", "127.0.0.1:4180"} {
		if n := testing.AllocsPerRun(100, func() { _, _ = Canonical(in) }); n != 0 {
			t.Errorf("Canonical(%q): %v allocations", in, n)
		}
	}
}

// FuzzCanonical: whatever is accepted is stable, bounded and made only of
// the bytes a Host header may carry; the port survives.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"a.example", "A.example:1", "[::1]:2", "위키.example", "my_app.internal", "a:1:2", "x'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Canonical(s)
		if err != nil {
			return
		}
		if again, err := Canonical(c); err != nil || again != c {
			t.Fatalf("Canonical(%q) = %q, then %q, %v", s, c, again, err)
		}
		for i := 0; i < len(c); i++ {
			b := c[i]
			if !('a' <= b && b <= 'z' || '0' <= b && b <= '9' || strings.IndexByte("-_.:[]", b) >= 0) {
				t.Fatalf("Canonical(%q) = %q: byte %q", s, c, b)
			}
		}
		if _, p := Split(c); p != "" {
			if _, sp := Split(s); sp != p {
				t.Fatalf("Canonical(%q) = %q: port changed", s, c)
			}
		}
	})
}
