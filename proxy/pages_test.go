package proxy

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestErrorKeysHaveText: every error key has its message in both
// languages: every errKey constant declared in the package, and every key
// a handler passes to errorf or challenge spelled as a string literal. The
// keys are read from the source, so a new one cannot be left out of a
// hand-kept list.
func TestErrorKeysHaveText(t *testing.T) {
	keys := map[string]bool{}
	files, _ := filepath.Glob("*.go")
	decl := regexp.MustCompile(`\berr[A-Z]\w*\s+errKey\s*=\s*"([a-z_]+)"`)
	lit := regexp.MustCompile(`(?:errorf|challenge)\([^,]+,\s*"([a-z_]+)"`)
	declared := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllSubmatch(src, -1) {
			keys[string(m[1])] = true
			declared++
		}
		for _, m := range lit.FindAllSubmatch(src, -1) {
			keys[string(m[1])] = true
		}
	}
	// The package declares dozens; finding few means the pattern no
	// longer matches the source and the test checks nothing.
	if declared < 20 {
		t.Fatalf("found %d errKey constants in the source, want every one (at least 20)", declared)
	}
	for k := range keys {
		for _, l := range []lang{langKO, langEN} {
			if m := messages["err_"+k]; m[l] == "" {
				t.Errorf("error key %q has no %s message", k, l)
			}
			if m, ok := messages["title_"+k]; ok && m[l] == "" {
				t.Errorf("error key %q has a title without %s", k, l)
			}
		}
	}
	for k, m := range messages {
		if m[langKO] == "" || m[langEN] == "" {
			t.Errorf("message %q lacks a language: %v", k, m)
		}
	}
}

// TestContrast checks the stylesheet's colours for WCAG AA: 4.5:1 for
// text on its background, 3:1 for outlines and the focus ring (1.4.11).
// Every button's label is text, the brands' included: WCAG exempts
// logotypes (Naver's N, Kakao's bubble), not a label such as "네이버 로그인".
// The buttons' pairs are read from the stylesheet's .btn-* rules, so a new
// button, or a brand colour changed, cannot slip past the list below.
func TestContrast(t *testing.T) {
	css, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`--([a-z-]+):\s*([^;]+);`).FindAllSubmatch(css, -1) {
		vars[string(m[1])] = strings.TrimSpace(string(m[2]))
	}
	check := func(what, fg, bg string, min float64) {
		t.Helper()
		if vars[fg] == "" || vars[bg] == "" {
			t.Errorf("%s: --%s or --%s is not a colour the stylesheet defines", what, fg, bg)
			return
		}
		b := parseColor(t, vars[bg], [3]float64{1, 1, 1})
		if r := contrast(parseColor(t, vars[fg], b), b); r < min {
			t.Errorf("%s: --%s on --%s is %.2f:1, want at least %.1f:1", what, fg, bg, r, min)
		}
	}
	pairs := []struct {
		fg, bg string
		min    float64
	}{
		{"ink", "card", 4.5}, {"muted", "card", 4.5}, {"ink", "page", 4.5}, {"muted", "page", 4.5},
		{"on-primary", "primary", 4.5}, {"notice-ink", "notice-bg", 4.5}, {"inapp-ink", "inapp-bg", 4.5},
		{"kakao-ink", "kakao", 4.5}, {"naver-ink", "naver", 4.5}, {"google-ink", "google", 4.5},
		// Non-text: the outlines of the white buttons on the white card
		// (WCAG 1.4.11), and the focus ring.
		{"google-line", "google", 3}, {"naver-line", "naver", 3}, {"google-line", "card", 3}, {"naver-line", "card", 3},
		{"focus", "card", 3}, {"focus", "page", 3},
	}
	for _, p := range pairs {
		check("pair", p.fg, p.bg, p.min)
	}

	// Every button rule that colours its label: the label on the button.
	rule := regexp.MustCompile(`\.btn-([a-z]+)\s*\{([^}]*)\}`)
	decl := regexp.MustCompile(`(?:^|[;{\s])(background|color):\s*var\(--([a-z-]+)\)`)
	checked := map[string]bool{}
	for _, m := range rule.FindAllSubmatch(css, -1) {
		name, colours := string(m[1]), map[string]string{}
		for _, d := range decl.FindAllSubmatch(m[2], -1) {
			colours[string(d[1])] = string(d[2])
		}
		switch {
		case colours["color"] != "" && colours["background"] != "":
			check(".btn-"+name+" label", colours["color"], colours["background"], 4.5)
			checked[name] = true
		case colours["color"] != "" || colours["background"] != "":
			t.Errorf(".btn-%s sets only one of color and background (as var(--…)): its label's contrast cannot be checked", name)
		}
	}
	// The provider buttons (signin.html's btn-{{.Style}}) and the pages'
	// own: finding fewer means the patterns no longer match the stylesheet.
	want := []string{"generic", "primary", "plain"}
	for s := range brandStyles {
		want = append(want, s)
	}
	for _, s := range want {
		if !checked[s] {
			t.Errorf(".btn-%s: no rule with both color and background found in style.css", s)
		}
	}
}

// TestContrastRatio: the checker TestContrast relies on computes WCAG's
// ratio and rejects what fails AA, Naver's former white-on-green label
// among them.
func TestContrastRatio(t *testing.T) {
	for _, tt := range []struct {
		fg, bg string
		want   float64
		aa     bool // at least 4.5:1
	}{
		{"#000000", "#ffffff", 21, true},
		{"#ffffff", "#ffffff", 1, false},
		{"#ffffff", "#03c75a", 2.25, false}, // the old Naver button: white label on Naver green
		{"#03c75a", "#ffffff", 2.25, false}, // the ratio is symmetric
		{"#777777", "#ffffff", 4.48, false}, // just short
		{"#747775", "#ffffff", 4.53, true},
		{"#1f2328", "#ffffff", 15.80, true},         // the Naver label now
		{"rgba(0,0,0,.85)", "#fee500", 12.48, true}, // Kakao's label, blended
	} {
		bg := parseColor(t, tt.bg, [3]float64{1, 1, 1})
		r := contrast(parseColor(t, tt.fg, bg), bg)
		if math.Abs(r-tt.want) > 0.01 || (r >= 4.5) != tt.aa {
			t.Errorf("%s on %s: %.3f:1, want %.2f:1 (passes AA: %v)", tt.fg, tt.bg, r, tt.want, tt.aa)
		}
	}
}

// parseColor reads #rrggbb or rgba(r,g,b,a), blending alpha over bg.
func parseColor(t *testing.T, s string, bg [3]float64) [3]float64 {
	t.Helper()
	var c [3]float64
	switch {
	case strings.HasPrefix(s, "#") && len(s) == 7:
		for i := range 3 {
			v, err := strconv.ParseUint(s[1+2*i:3+2*i], 16, 8)
			if err != nil {
				t.Fatalf("colour %q: %v", s, err)
			}
			c[i] = float64(v) / 255
		}
	case strings.HasPrefix(s, "rgba("):
		parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(s, "rgba("), ")"), ",")
		if len(parts) != 4 {
			t.Fatalf("colour %q", s)
		}
		a, _ := strconv.ParseFloat(strings.TrimSpace(parts[3]), 64)
		for i := range 3 {
			v, _ := strconv.ParseFloat(strings.TrimSpace(parts[i]), 64)
			c[i] = a*v/255 + (1-a)*bg[i]
		}
	default:
		t.Fatalf("colour %q: not #rrggbb or rgba()", s)
	}
	return c
}

func contrast(a, b [3]float64) float64 {
	lum := func(c [3]float64) float64 {
		var l [3]float64
		for i, v := range c {
			if v <= 0.03928 {
				l[i] = v / 12.92
			} else {
				l[i] = math.Pow((v+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
	}
	la, lb := lum(a), lum(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func TestCustomTemplates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("signin.html", `{{template "head" .}}<title>{{.Title}}</title>{{template "top" .}}<h1 class="team">{{.Title}} · 우리 팀</h1>
{{range .Providers}}<a href="{{.Href}}">{{.Label}}</a>{{end}}{{template "foot" .}}`)
	write("style.css", `body{background:#000}`)
	write(".swp", `ignored`)
	p, err := newPages(UIOptions{AppName: "사내 위키", TemplatesDir: dir})
	if err != nil {
		t.Fatalf("newPages: %v", err)
	}
	var buf bytes.Buffer
	page := samplePages(langKO)["signin.html"].(signInPage)
	page.Title = "사내 위키에 로그인"
	if err := p.tmpl.ExecuteTemplate(&buf, "signin.html", page); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `<h1 class="team">사내 위키에 로그인 · 우리 팀</h1>`) ||
		!strings.Contains(buf.String(), `href="/oauth2/start/kakao?rd=%2F"`) {
		t.Errorf("custom template not used:\n%s", buf.String())
	}
	if string(p.css) != `body{background:#000}` {
		t.Errorf("custom style.css not used: %q", p.css)
	}
	// The pages the team did not replace are the built-in ones.
	buf.Reset()
	if err := p.tmpl.ExecuteTemplate(&buf, "error.html", samplePages(langEN)["error.html"]); err != nil ||
		!strings.Contains(buf.String(), "Sign-in cancelled") {
		t.Errorf("built-in error page: %v\n%s", err, buf.String())
	}

	bad := []struct{ name, file, body, want string }{
		{"syntax", "signin.html", `{{if .Title}}`, "signin.html"},
		{"unknown field", "error.html", `{{.NoSuchField}}`, "NoSuchField"},
		{"unknown function", "signout.html", `{{nosuch .Lang}}`, "nosuch"},
		{"unknown name", "sigin.html", `x`, "not a template name"},
	}
	for _, tt := range bad {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, tt.file), []byte(tt.body), 0o644); err != nil {
			t.Fatal(err)
		}
		err := CheckTemplates(d)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: CheckTemplates = %v, want an error naming %q", tt.name, err, tt.want)
		}
	}
	if err := CheckTemplates(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing directory was accepted")
	}
}

// TestTemplatesDoc: docs/TEMPLATES.md, which teams write their templates
// from, matches the code. Its file table lists every name a templates_dir
// file may have exactly once and no other, with the data type each page
// is rendered with, in the file that declares that type; the CSP it quotes
// is the one pages are served with; its CSP section names every script a
// built-in template loads.
func TestTemplatesDoc(t *testing.T) {
	raw, err := os.ReadFile("../docs/TEMPLATES.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	rows := map[string]int{}
	data := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+\\.(?:html|css))` \\|(.*)\\|$").FindAllStringSubmatch(doc, -1) {
		cols := strings.Split(m[2], " | ")
		rows[m[1]]++
		data[m[1]] = strings.TrimSpace(cols[len(cols)-1])
	}
	names := builtinNames()
	for _, n := range names {
		if rows[n] != 1 {
			t.Errorf("the file table lists %s %d times, want once", n, rows[n])
		}
	}
	for n := range rows {
		if !slices.Contains(names, n) {
			t.Errorf("the file table lists %s, which is not a template name", n)
		}
	}
	typeIn := regexp.MustCompile("^`(\\w+)` \\(`proxy/([a-z_]+\\.go)`\\)$")
	for name, page := range samplePages(langKO) {
		typ := strings.TrimPrefix(fmt.Sprintf("%T", page), "proxy.")
		m := typeIn.FindStringSubmatch(data[name])
		if m == nil || m[1] != typ {
			t.Errorf("%s: the file table gives its data as %q, want `%s` (`proxy/….go`)", name, data[name], typ)
			continue
		}
		src, err := os.ReadFile(m[2])
		if err != nil || !strings.Contains(string(src), "type "+typ+" struct") {
			t.Errorf("%s: the file table says %s is declared in proxy/%s; it is not (%v)", name, typ, m[2], err)
		}
	}

	h := http.Header{}
	pageHeaders(h)
	csp := h.Get("Content-Security-Policy")
	_, section, _ := strings.Cut(doc, "## Content Security Policy")
	if flat := strings.Join(strings.Fields(section), " "); !strings.Contains(flat, "`"+csp+"`") {
		t.Errorf("the CSP section does not quote the pages' policy %q", csp)
	}
	scripts := 0
	for _, n := range names {
		body, err := templateFS.ReadFile("templates/" + n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`<script src="([^"]+)"`).FindAllSubmatch(body, -1) {
			scripts++
			if !strings.Contains(section, "`"+string(m[1])+"`") {
				t.Errorf("%s loads %s, which the CSP section does not name", n, m[1])
			}
		}
	}
	if scripts < 2 {
		t.Errorf("found %d <script src> in the built-in templates, want fragment.js and copy.js at least", scripts)
	}
}
