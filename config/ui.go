package config

import (
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/goccy/go-yaml/ast"
)

// UI is how the gateway's own pages look.
type UI struct {
	// AppName names the application on the sign-in page: "사내 위키"
	// shows "사내 위키에 로그인" (Korean) and "Sign in to 사내 위키".
	// Default "": a plain "로그인" / "Sign in".
	AppName string
	// LogoFile is a PNG or SVG file (at most 256 KiB) the gateway serves on
	// its pages, relative to the configuration file's directory. Its
	// content is read at load time into Logo; the gateway checks that it
	// really is a PNG or a script-free SVG. Default "": no logo.
	LogoFile string
	Logo     []byte
	// TemplatesDir holds a team's own templates with the names of the
	// built-in ones (docs/TEMPLATES.md), relative to the configuration
	// file's directory. Default "": the built-in templates.
	TemplatesDir string
}

// maxLogoBytes matches the gateway's limit (proxy.MaxLogoBytes), so that
// load reports a large file with its line instead of the gateway at start.
const maxLogoBytes = 256 << 10

// maxAppName bounds ui.app_name: it is a heading, not a paragraph.
const maxAppName = 100

func (d *decoder) ui(n ast.Node, path string, u *UI) {
	d.mapping(n, path, fields{
		"app_name":      d.str(&u.AppName),
		"logo_file":     d.str(&u.LogoFile),
		"templates_dir": d.str(&u.TemplatesDir),
	})
}

func (d *decoder) validateUI(u *UI) {
	u.AppName = strings.TrimSpace(u.AppName)
	if len([]rune(u.AppName)) > maxAppName {
		d.errorf("ui.app_name", "at most %d characters", maxAppName)
	}
	if strings.ContainsFunc(u.AppName, unicode.IsControl) {
		d.errorf("ui.app_name", "must not contain control characters")
	}
	if u.LogoFile != "" {
		if !filepath.IsAbs(u.LogoFile) {
			u.LogoFile = filepath.Join(d.dir, u.LogoFile)
		}
		switch strings.ToLower(filepath.Ext(u.LogoFile)) {
		case ".png", ".svg":
			data, err := d.readFile(u.LogoFile)
			switch {
			case err != nil:
				d.errorf("ui.logo_file", "%v", err)
			case len(data) == 0:
				d.errorf("ui.logo_file", "the file is empty")
			case len(data) > maxLogoBytes:
				d.errorf("ui.logo_file", "%d bytes; a logo may have at most %d KiB", len(data), maxLogoBytes>>10)
			default:
				u.Logo = data
			}
		default:
			d.errorf("ui.logo_file", "must be a .png or .svg file")
		}
	}
	if u.TemplatesDir != "" {
		if !filepath.IsAbs(u.TemplatesDir) {
			u.TemplatesDir = filepath.Join(d.dir, u.TemplatesDir)
		}
		fi, err := os.Stat(u.TemplatesDir)
		switch {
		case err != nil:
			d.errorf("ui.templates_dir", "cannot read directory: %v", err)
		case !fi.IsDir():
			d.errorf("ui.templates_dir", "%s is not a directory", u.TemplatesDir)
		}
	}
}
