package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckConfigUI: a broken team template and a logo that is no image
// are refused by check-config with the lines of their keys, the same
// checks the gateway makes at start.
func TestCheckConfigUI(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := `server:
  public_url: "https://gate.example.com"
cookie:
  secret: "0123456789abcdef0123456789abcdef"
providers:
  kakao: { client_id: "k" }
upstreams:
  - name: app
    url: "http://127.0.0.1:8080"
ui:
  app_name: "사내 위키"
  logo_file: logo.svg
  templates_dir: tmpl
`
	write("c.yaml", base)
	write("logo.svg", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)
	write("tmpl/error.html", `{{template "head" .}}{{.NoSuchField}}`)
	var out bytes.Buffer
	code := run(context.Background(), []string{"check-config", "--config", filepath.Join(dir, "c.yaml")}, &out, io.Discard)
	if code != 1 {
		t.Fatalf("exit %d, want 1; output:\n%s", code, out.String())
	}
	for _, want := range []string{
		filepath.Join(dir, "c.yaml") + ":12: ui.logo_file: SVG with a <script> element",
		filepath.Join(dir, "c.yaml") + ":13: ui.templates_dir: error.html: ",
		"NoSuchField",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	// Fixed, the same file passes.
	write("logo.svg", `<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>`)
	write("tmpl/error.html", `{{template "head" .}}<title>{{.Title}}</title>{{template "top" .}}<p>{{.Message}}</p>{{template "foot" .}}`)
	out.Reset()
	if code := run(context.Background(), []string{"check-config", "--config", filepath.Join(dir, "c.yaml")}, &out, io.Discard); code != 0 {
		t.Errorf("exit %d after the fix:\n%s", code, out.String())
	}
}
