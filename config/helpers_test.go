package config

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// secret32 is a cookie secret of exactly the minimum length.
const secret32 = "0123456789abcdef0123456789abcdef"

// baseSections are the smallest valid values of the required sections.
var baseSections = []struct{ key, yaml string }{
	{"server", "server:\n  public_url: https://gate.example.com\n"},
	{"cookie", "cookie:\n  secret: " + secret32 + "\n"},
	{"providers", "providers:\n  google:\n    client_id: g\n    client_secret: gs\n"},
	{"upstreams", "upstreams:\n  - name: app\n    url: http://127.0.0.1:8080\n"},
}

// doc completes head into a valid file: head comes first, so the lines a
// test expects are lines of head, and every required section that head does
// not write is appended.
func doc(head string) string {
	var b strings.Builder
	b.WriteString(head)
	for _, s := range baseSections {
		if !regexp.MustCompile(`(?m)^` + s.key + `:`).MatchString(head) {
			b.WriteString(s.yaml)
		}
	}
	return b.String()
}

// env is a lookupEnv backed by a map.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

var noEnv = env(nil)

// mustParse parses doc(head) and fails the test on any problem.
func mustParse(t *testing.T, head string) *Config {
	t.Helper()
	c, err := Parse("c.yaml", []byte(doc(head)), noEnv)
	if err != nil {
		t.Fatalf("Parse: unexpected problems:\n%v", err)
	}
	return c
}

// problemLines parses data and returns its problems as lines, failing the
// test if the error is not a Problems.
func problemLines(t *testing.T, data string, lookup func(string) (string, bool)) []string {
	t.Helper()
	c, err := Parse("c.yaml", []byte(data), lookup)
	if err == nil {
		t.Fatalf("Parse succeeded (%+v), want problems", c)
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Parse error is %T (%v), want Problems", err, err)
	}
	return strings.Split(ps.Error(), "\n")
}

func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
