package config

import (
	"errors"
	"strings"
	"testing"
)

func TestUnknownKeys(t *testing.T) {
	tests := []struct {
		name string
		head string
		want []string
	}{
		{"root typo", "sever:\n  listen: ':1'\n",
			[]string{`c.yaml:1: sever: unknown key "sever" (did you mean "server"?)`}},
		{"nested typo", "server:\n  public_url: https://gate.example.com\n  listn: ':1'\n",
			[]string{`c.yaml:3: server.listn: unknown key "listn" (did you mean "listen"?)`}},
		{"no close key", "server:\n  public_url: https://gate.example.com\n  color: blue\n",
			[]string{`c.yaml:3: server.color: unknown key "color"`}},
		{"in an upstream", "upstreams:\n  - name: a\n    url: http://127.0.0.1:1\n    urll: x\n",
			[]string{`c.yaml:4: upstreams[0].urll: unknown key "urll" (did you mean "url"?)`}},
		{"in endpoints", "providers:\n  google:\n    client_id: g\n    client_secret: s\n    endpoints:\n      authurl: https://a.example\n",
			[]string{`c.yaml:6: providers.google.endpoints.authurl: unknown key "authurl" (did you mean "auth_url"?)`}},
		{"in redis tls", "session:\n  redis:\n    tls:\n      enable: true\n",
			[]string{`c.yaml:4: session.redis.tls.enable: unknown key "enable" (did you mean "enabled"?)`}},
		{"keys are not expanded", "log:\n  ${LEVEL}: info\n",
			[]string{`c.yaml:2: log.${LEVEL}: unknown key "${LEVEL}"`}},
		{"Hangul key", "log:\n  수준: info\n",
			[]string{`c.yaml:2: log.수준: unknown key "수준"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sameLines(t, problemLines(t, doc(tc.head), env(map[string]string{"LEVEL": "x"})), tc.want)
		})
	}
}

func TestWrongShapes(t *testing.T) {
	tests := []struct {
		name string
		head string
		want []string
	}{
		{"section is a list", "log: [info]\n",
			[]string{`c.yaml:1: log: must be a mapping, not a list`}},
		{"upstreams is a mapping", "upstreams:\n  name: a\n",
			[]string{`c.yaml:2: upstreams: must be a list, not a mapping`}},
		{"value is a list", "server:\n  public_url: https://gate.example.com\n  listen: [':1']\n",
			[]string{`c.yaml:3: server.listen: must be a single value, not a list`}},
		{"list is a value", "providers:\n  kakao:\n    client_id: k\n    scopes: openid\n",
			[]string{`c.yaml:4: providers.kakao.scopes: must be a list, not a single value`}},
		{"upstream entry is a value", "upstreams:\n  - app\n",
			[]string{`c.yaml:2: upstreams[0]: must be a mapping, not a single value`, `c.yaml:2: upstreams[0].name: is required`}},
		{"alias to nothing", "log: *nope\n",
			[]string{`c.yaml:1: log: must be a mapping, not an alias to an unknown anchor`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sameLines(t, problemLines(t, doc(tc.head), noEnv), tc.want)
		})
	}
}

func TestFileLevelProblems(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []string
	}{
		{"unterminated quote", "server:\n  public_url: \"https://gate\n",
			[]string{`c.yaml:2: invalid YAML: could not find end character of double-quoted text`}},
		{"duplicate key", "log:\n  level: info\n  level: debug\n",
			[]string{`c.yaml:3: invalid YAML: mapping key "level" already defined at [2:3]`}},
		{"two documents", doc("") + "---\nlog: {level: info}\n",
			[]string{`c.yaml:12: only one YAML document is allowed`}},
		{"not UTF-8", "log:\n  level: info\n# \xc7\xd1\xb1\xdb\n",
			[]string{`c.yaml:3: the file is not valid UTF-8 (save it as UTF-8; EUC-KR files are not supported)`}},
		{"root is a list", "- server\n",
			[]string{`c.yaml:1: the file must be a mapping of sections (server, cookie, session, providers, redirects, upstreams, log), not a list`}},
		{"empty file", "",
			[]string{
				`c.yaml:1: server.public_url: is required (the URL browsers use to reach the gateway, such as "https://gate.example.com")`,
				`c.yaml:1: cookie.secret: is required (at least 32 random bytes; set secret or secret_file)`,
				`c.yaml:1: providers: at least one provider is required (google, naver, kakao)`,
				`c.yaml:1: upstreams: at least one upstream is required`,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sameLines(t, problemLines(t, tc.data, noEnv), tc.want)
		})
	}
}

func TestByteOrderMark(t *testing.T) {
	if _, err := Parse("c.yaml", []byte("\ufeff"+doc("")), noEnv); err != nil {
		t.Errorf("Parse with a BOM: got %v, want no problems", err)
	}
}

// TestEveryProblemAtOnce checks that decoding and validation problems are
// all reported, in line order, whatever phase found them.
func TestEveryProblemAtOnce(t *testing.T) {
	data := "upstreams:\n" + // 1
		"  - name: a\n" + // 2
		"    url: ftp://x\n" + // 3
		"server:\n" + // 4
		"  listn: ':1'\n" + // 5
		"cookie:\n" + // 6
		"  secret: ${SECRET}\n" + // 7
		"providers:\n" + // 8
		"  naver:\n" + // 9
		"    client_id: n\n" + // 10
		"log:\n" + // 11
		"  level: loud\n" // 12
	want := []string{
		`c.yaml:3: upstreams[0].url: must be an absolute http:// or https:// URL`,
		`c.yaml:4: server.public_url: is required (the URL browsers use to reach the gateway, such as "https://gate.example.com")`,
		`c.yaml:5: server.listn: unknown key "listn" (did you mean "listen"?)`,
		`c.yaml:7: cookie.secret: environment variable SECRET is not set`,
		`c.yaml:9: providers.naver.client_secret: is required (set client_secret or client_secret_file)`,
		`c.yaml:12: log.level: must be one of debug, info, warn, error; got "loud"`,
	}
	sameLines(t, problemLines(t, data, noEnv), want)
}

func TestAnchorsAndMerge(t *testing.T) {
	c := mustParse(t, "upstreams:\n"+
		"  - &app\n"+
		"    name: a\n"+
		"    url: http://127.0.0.1:1\n"+
		"    header_encoding: euc-kr\n"+
		"    allow: &staff\n"+
		"      email_domains: [example.com]\n"+
		"  - <<: *app\n"+
		"    name: b\n"+
		"    path: /b\n"+
		"  - name: c\n"+
		"    path: /c\n"+
		"    url: http://127.0.0.1:3\n"+
		"    allow: *staff\n")
	if len(c.Upstreams) != 3 {
		t.Fatalf("got %d upstreams, want 3", len(c.Upstreams))
	}
	b := c.Upstreams[1]
	if b.Name != "b" || b.Path != "/b" || b.URL != "http://127.0.0.1:1" || b.HeaderEncoding != EncodingEUCKR {
		t.Errorf("merged upstream: got %+v, want name b, path /b and url and header_encoding from a", b)
	}
	if got := c.Upstreams[2].Allow.EmailDomains; len(got) != 1 || got[0] != "example.com" {
		t.Errorf("aliased allow: got email_domains %q, want [example.com]", got)
	}
}

func TestMergeCycle(t *testing.T) {
	got := problemLines(t, doc("log: &x\n  <<: *x\n"), noEnv)
	want := []string{`c.yaml:2: log: merge keys (<<) nest too deeply`}
	sameLines(t, got, want)
}

func TestProblemFormat(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.yaml", Line: 3, Path: "cookie.secret", Msg: "is required"}, "a.yaml:3: cookie.secret: is required"},
		{Problem{File: "a.yaml", Line: 1, Msg: "invalid YAML"}, "a.yaml:1: invalid YAML"},
	}
	for _, tc := range tests {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("String(): got %q, want %q", got, tc.want)
		}
	}
	ps := Problems{tests[0].p, tests[1].p}
	if got, want := ps.Error(), tests[0].want+"\n"+tests[1].want; got != want {
		t.Errorf("Problems.Error(): got %q, want %q", got, want)
	}
	var target Problems
	if err := error(ps); !errors.As(err, &target) || len(target) != 2 {
		t.Errorf("errors.As(Problems): got %v, want the 2 problems", target)
	}
}

func TestClosest(t *testing.T) {
	known := []string{"listen", "public_url", "trusted_proxies"}
	tests := []struct{ word, want string }{
		{"listn", "listen"},
		{"LISTEN", "listen"},
		{"public-url", "public_url"},
		{"publicurl", "public_url"},
		{"trusted", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := closest(tc.word, known); got != tc.want {
			t.Errorf("closest(%q): got %q, want %q", tc.word, got, tc.want)
		}
	}
	if got := editDistance("홍길동", "홍길순"); got != 1 {
		t.Errorf("editDistance of one Hangul syllable: got %d, want 1", got)
	}
}

func TestParentPath(t *testing.T) {
	tests := []struct{ path, want string }{
		{"upstreams[0].allow.users[1]", "upstreams[0].allow.users"},
		{"upstreams[0].allow.users", "upstreams[0].allow"},
		{"upstreams[0]", "upstreams"},
		{"server", ""},
	}
	for _, tc := range tests {
		if got := parentPath(tc.path); got != tc.want {
			t.Errorf("parentPath(%q): got %q, want %q", tc.path, got, tc.want)
		}
	}
}

func TestUpstreamLinesInFlowStyle(t *testing.T) {
	head := "upstreams: [{name: a, url: 'http://127.0.0.1:1'}, {name: b}]\n"
	got := problemLines(t, doc(head), noEnv)
	for _, l := range got {
		if !strings.HasPrefix(l, "c.yaml:1: upstreams[1]") {
			t.Errorf("got %q, want a problem of upstreams[1] on line 1", l)
		}
	}
}
