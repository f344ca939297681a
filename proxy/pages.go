package proxy

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

//go:embed templates/*.html templates/style.css templates/copy.js templates/fragment.js
var templateFS embed.FS

// UIOptions are how the gateway's own pages look. Every field is optional.
type UIOptions struct {
	// AppName names the application on the sign-in page ("사내 위키" shows
	// "사내 위키에 로그인"). Zero: a plain "Sign in".
	AppName string
	// Logo is a PNG or SVG image (at most MaxLogoBytes) shown above the
	// page titles and served at /oauth2/static/logo. Zero: no logo.
	Logo []byte
	// TemplatesDir holds a team's own templates: files named like the
	// built-in ones (see docs/TEMPLATES.md) replace them; style.css replaces
	// the stylesheet. Zero: the built-in templates only.
	TemplatesDir string
}

// maxTemplateBytes bounds one file of TemplatesDir.
const maxTemplateBytes = 256 << 10

// pages renders the gateway's own HTML.
type pages struct {
	tmpl    *template.Template
	css, js []byte
	// fragmentJS keeps the URL fragment across the login (fragment.js).
	fragmentJS []byte
	appName    string
	logo       []byte
	logoType   string
}

func newPages(o UIOptions) (*pages, error) {
	p := &pages{appName: strings.TrimSpace(o.AppName)}
	if len(o.Logo) > 0 {
		typ, err := CheckLogo(o.Logo)
		if err != nil {
			return nil, fmt.Errorf("logo: %w", err)
		}
		p.logo, p.logoType = o.Logo, typ
	}
	if err := p.load(o.TemplatesDir); err != nil {
		if o.TemplatesDir != "" {
			return nil, fmt.Errorf("templates_dir: %w", err)
		}
		return nil, err
	}
	return p, nil
}

// load parses the built-in templates, then the team's from dir (if any),
// and tries every page.
func (p *pages) load(dir string) error {
	t := template.New("").Funcs(template.FuncMap{
		"t":       func(l lang, key string) string { return text(l, key) },
		"tf":      func(l lang, key string, arg string) string { return fmt.Sprintf(text(l, key), arg) },
		"appName": func() string { return p.appName },
		"logoURL": func() string {
			if p.logo == nil {
				return ""
			}
			return "/oauth2/static/logo"
		},
	})
	t, err := t.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	if p.css, err = templateFS.ReadFile("templates/style.css"); err != nil {
		return err
	}
	if p.js, err = templateFS.ReadFile("templates/copy.js"); err != nil {
		return err
	}
	if p.fragmentJS, err = templateFS.ReadFile("templates/fragment.js"); err != nil {
		return err
	}
	if dir != "" {
		if err := p.loadCustom(t, dir); err != nil {
			return err
		}
	}
	p.tmpl = t
	return p.tryAll()
}

// builtinNames are the names a file in TemplatesDir may have.
func builtinNames() []string {
	names := []string{"style.css"}
	entries, _ := fs.ReadDir(templateFS, "templates")
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".html") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}

// loadCustom parses the team's templates over the built-in ones. A file
// with another name is refused rather than ignored: a typo ("sigin.html")
// would otherwise leave the built-in page in place without a word.
func (p *pages) loadCustom(t *template.Template, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	known := builtinNames()
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue // editor and VCS files
		}
		if !slices.Contains(known, name) {
			return fmt.Errorf("%s: not a template name (known: %s)", name, strings.Join(known, ", "))
		}
		data, err := readSmallFile(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if name == "style.css" {
			p.css = data
			continue
		}
		if _, err := t.New(name).Parse(string(data)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func readSmallFile(name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTemplateBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxTemplateBytes {
		return nil, fmt.Errorf("larger than %d KiB", maxTemplateBytes>>10)
	}
	return data, nil
}

// CheckTemplates reports what New would refuse in a templates directory:
// an unknown file name, a template that does not parse, or one that fails
// to render the sample data of its page. check-config calls it.
func CheckTemplates(dir string) error {
	return (&pages{}).load(dir)
}

// tryAll renders every page with sample data in every language, so that a
// custom template naming a field its page does not have fails at start,
// not in front of a user.
func (p *pages) tryAll() error {
	for _, l := range []lang{langKO, langEN} {
		for name, data := range samplePages(l) {
			if p.tmpl.Lookup(name) == nil {
				continue
			}
			if err := p.tmpl.ExecuteTemplate(io.Discard, name, data); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return nil
}

// pageHeaders are sent with every page the gateway renders: the callback URL
// carries a code, so no referrer; nothing is framed or cached. The only
// scripts are the gateway's own (fragment.js and copy.js, from
// serveStatic), never inline.
// Error pages are also rendered on upstream routes, where ServeHTTP has not
// applied endpointHeaders, so pages apply them here.
func pageHeaders(h http.Header) {
	endpointHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
}

// endpointHeaders are the defaults for every answer of the /oauth2/
// endpoints, redirects and JSON included: the start and callback URLs carry
// a state and a code, so no referrer may leak them, and nothing the gateway
// answers there may be framed, sniffed or cached. Pages replace the CSP
// with their own; the stylesheet replaces Cache-Control.
func endpointHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// render executes a page template into a buffer first, so a template error
// never leaves half a page on the wire.
func (p *pages) render(w http.ResponseWriter, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	pageHeaders(w.Header())
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	// A failed write is the client gone: nothing left to answer or report.
	_, _ = w.Write(buf.Bytes())
	return nil
}

// serveStatic answers /oauth2/static/{file}: the stylesheet, the two
// scripts (copy-link, fragment) and the logo.
func (p *pages) serveStatic(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	var body []byte
	switch path.Base(r.URL.Path) {
	case "style.css":
		h.Set("Content-Type", "text/css; charset=utf-8")
		body = p.css
	case "copy.js":
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		body = p.js
	case "fragment.js":
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		body = p.fragmentJS
	case "logo":
		if p.logo == nil {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", p.logoType)
		// An SVG opened on its own is a document: it may run nothing.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
		body = p.logo
	default:
		http.NotFound(w, r)
		return
	}
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}
