package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestEnvExpansion(t *testing.T) {
	vars := env(map[string]string{
		"PUBLIC":  "https://gate.example.com",
		"SECRET":  secret32,
		"SECURE":  "false",
		"MAXHDR":  "8192",
		"TIMEOUT": "5s",
		"HOST":    "app.example.com",
		"NICK":    "홍길동",
		"NESTED":  "${SECRET}",
		"EMPTY":   "",
	})
	head := "server:\n" +
		"  public_url: ${PUBLIC}\n" +
		"  max_header_bytes: ${MAXHDR}\n" +
		"  read_timeout: '${TIMEOUT}'\n" +
		"  listen: ${EMPTY}\n" +
		"cookie:\n" +
		"  secret: \"${SECRET}\"\n" +
		"  secure: ${SECURE}\n" +
		"  same_site: none\n" +
		"  name: 'sg$$x'\n" +
		"redirects:\n" +
		"  allowed_hosts: [\"${HOST}:8443\"]\n" +
		"upstreams:\n" +
		"  - name: \"${NICK} wiki\"\n" +
		"    url: http://127.0.0.1:1/$path${EMPTY}\n" +
		"    path: /${NESTED}\n"
	// same_site none with secure false is a problem: expansion must have
	// turned "${SECURE}" into a real false for this to be reported.
	got := problemLines(t, doc(head), vars)
	sameLines(t, got, []string{
		"c.yaml:9: cookie.same_site: none requires a secure cookie: browsers drop SameSite=None cookies without Secure",
	})

	c, err := Parse("c.yaml", []byte(doc(strings.Replace(head, "same_site: none", "same_site: lax", 1))), vars)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"public_url", c.Server.PublicURL, "https://gate.example.com"},
		{"max_header_bytes", c.Server.MaxHeaderBytes, 8192},
		{"read_timeout", c.Server.ReadTimeout, 5 * time.Second},
		{"empty variable means default", c.Server.Listen, ":4180"},
		{"secret", c.Cookie.Secret == secret32, true},
		{"secure", c.Cookie.Secure, false},
		{"$$ escapes", c.Cookie.Name, "sg$x"},
		{"list entry", c.Redirects.AllowedHosts[0], "app.example.com:8443"},
		{"Hangul survives", c.Upstreams[0].Name, "홍길동 wiki"},
		{"lone $ stays", c.Upstreams[0].URL, "http://127.0.0.1:1/$path"},
		{"values are not expanded twice", c.Upstreams[0].Path, "/${SECRET}"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestEnvProblems(t *testing.T) {
	tests := []struct {
		name string
		head string
		want string
	}{
		{"unset", "log:\n  level: ${LOG_LEVEL}\n", "c.yaml:2: log.level: environment variable LOG_LEVEL is not set"},
		{"unterminated", "log:\n  level: ${LOG_LEVEL\n", `c.yaml:2: log.level: unterminated "${" (write $$ for a literal $)`},
		{"empty name", "log:\n  level: ${}\n", `c.yaml:2: log.level: invalid variable name in "${…}": use letters, digits and _ (write $$ for a literal $)`},
		{"bad name", "log:\n  level: ${1X}\n", `c.yaml:2: log.level: invalid variable name in "${…}": use letters, digits and _ (write $$ for a literal $)`},
		{"in a list", "redirects:\n  allowed_hosts:\n    - a.example.com\n    - ${EXTRA_HOST}\n", "c.yaml:4: redirects.allowed_hosts[1]: environment variable EXTRA_HOST is not set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sameLines(t, problemLines(t, doc(tc.head), noEnv), []string{tc.want})
		})
	}
}

func TestExpand(t *testing.T) {
	lookup := env(map[string]string{"A": "1", "B_2": "two", "D": "$A"})
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"plain", "plain", false},
		{"${A}", "1", false},
		{"x${A}y${B_2}z", "x1ytwoz", false},
		{"$$", "$", false},
		{"$${A}", "${A}", false},
		{"$$$", "$$", false},
		{"p@ss$word$", "p@ss$word$", false},
		{"${D}", "$A", false},
		{"${A", "", true},
		{"${}", "", true},
		{"${A-B}", "", true},
		{"${C}", "", true},
	}
	for _, tc := range tests {
		got, err := expand(tc.in, lookup)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("expand(%q): got %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseNilLookupUsesEnvironment(t *testing.T) {
	t.Setenv("SOCIALGATE_TEST_LEVEL", "debug")
	c, err := Parse("c.yaml", []byte(doc("log:\n  level: ${SOCIALGATE_TEST_LEVEL}\n")), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if c.Log.Level != slog.LevelDebug {
		t.Errorf("log level: got %v, want debug", c.Log.Level)
	}
}
