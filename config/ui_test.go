package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUIValues(t *testing.T) {
	dir := t.TempDir()
	logo := []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)
	if err := os.WriteFile(filepath.Join(dir, "logo.svg"), logo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "tmpl"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "c.yaml")
	head := "ui:\n  app_name: ' 사내 위키 '\n  logo_file: logo.svg\n  templates_dir: tmpl\n" +
		"providers:\n  kakao:\n    client_id: k\n    auto_login: true\n"
	if err := os.WriteFile(path, []byte(doc(head)), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	u := c.UI
	if u.AppName != "사내 위키" || string(u.Logo) != string(logo) || u.LogoFile != filepath.Join(dir, "logo.svg") ||
		u.TemplatesDir != filepath.Join(dir, "tmpl") {
		t.Errorf("ui = %+v", u)
	}
	if !c.Providers[0].AutoLogin {
		t.Error("providers.kakao.auto_login not read")
	}
	if c := mustParse(t, ""); c.UI.AppName != "" || c.UI.Logo != nil || c.UI.TemplatesDir != "" {
		t.Errorf("defaults: %+v", c.UI)
	}
}

func TestUIProblems(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("logo.gif", []byte("GIF89a"))
	write("big.png", make([]byte, maxLogoBytes+1))
	write("empty.png", nil)
	write("file.txt", []byte("x"))
	for _, tc := range []struct {
		name, head, want string
	}{
		{"auto_login is kakao's", "providers:\n  google:\n    client_id: g\n    client_secret: s\n    auto_login: true\n",
			"c.yaml:5: providers.google.auto_login: only applies to kakao"},
		{"gif", "ui:\n  logo_file: logo.gif\n", "c.yaml:2: ui.logo_file: must be a .png or .svg file"},
		{"missing logo", "ui:\n  logo_file: nope.png\n", "c.yaml:2: ui.logo_file: cannot read file"},
		{"large logo", "ui:\n  logo_file: big.png\n", "c.yaml:2: ui.logo_file: 262145 bytes; a logo may have at most 256 KiB"},
		{"empty logo", "ui:\n  logo_file: empty.png\n", "c.yaml:2: ui.logo_file: the file is empty"},
		{"templates not a dir", "ui:\n  templates_dir: file.txt\n", "c.yaml:2: ui.templates_dir: "},
		{"templates missing", "ui:\n  templates_dir: nope\n", "c.yaml:2: ui.templates_dir: cannot read directory"},
		{"long app name", "ui:\n  app_name: " + strings.Repeat("가", 101) + "\n", "c.yaml:2: ui.app_name: at most 100 characters"},
		{"unknown key", "ui:\n  app_nmae: x\n", `c.yaml:2: ui.app_nmae: unknown key "app_nmae" (did you mean "app_name"?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "c.yaml")
			if err := os.WriteFile(path, []byte(doc(tc.head)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), strings.Replace(tc.want, "c.yaml", path, 1)) {
				t.Errorf("got %v\nwant a line starting %q", err, tc.want)
			}
		})
	}
}
