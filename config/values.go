package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// maxFileSize bounds what a *_file or ca_file may hold: a secret or a few
// certificates, never a log file pointed at by mistake.
const maxFileSize = 1 << 20

// The decoders below return a fields entry that stores a value of one type
// into dst and marks its path as set. A null or empty value leaves dst
// alone, so the default applies.

func (d *decoder) str(dst *string) func(ast.Node, string) {
	return func(v ast.Node, path string) {
		if s, ok := d.text(v, path); ok {
			*dst = s
			d.set[path] = true
		}
	}
}

func (d *decoder) boolean(dst *bool) func(ast.Node, string) {
	return func(v ast.Node, path string) {
		s, ok := d.text(v, path)
		if !ok {
			return
		}
		switch strings.ToLower(s) {
		case "true":
			*dst = true
		case "false":
			*dst = false
		default:
			d.errorf(path, "must be true or false")
			return
		}
		d.set[path] = true
	}
}

func (d *decoder) integer(dst *int) func(ast.Node, string) {
	return func(v ast.Node, path string) {
		s, ok := d.text(v, path)
		if !ok {
			return
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			d.errorf(path, "must be a whole number")
			return
		}
		*dst = n
		d.set[path] = true
	}
}

func (d *decoder) duration(dst *time.Duration) func(ast.Node, string) {
	return func(v ast.Node, path string) {
		s, ok := d.text(v, path)
		if !ok {
			return
		}
		t, err := time.ParseDuration(s)
		if err != nil {
			d.errorf(path, "invalid duration %q: use a Go duration such as \"30s\", \"15m\" or \"168h\"", s)
			return
		}
		*dst = t
		d.set[path] = true
	}
}

// strList decodes a list of single values. Empty entries are kept so that
// validation can point at them.
func (d *decoder) strList(dst *[]string) func(ast.Node, string) {
	return func(v ast.Node, path string) {
		d.list(v, path, func(e ast.Node, p string) {
			s, _ := d.text(e, p)
			*dst = append(*dst, s)
		})
		if len(*dst) > 0 {
			d.set[path] = true
		}
	}
}

// file decodes a *_file key: it reads the named file into d.files[path],
// without one trailing newline (what `echo` and most editors add).
func (d *decoder) file(v ast.Node, path string) {
	name, ok := d.text(v, path)
	if !ok {
		return
	}
	data, err := d.readFile(name)
	if err != nil {
		d.errorf(path, "%v", err)
		return
	}
	s := strings.TrimSuffix(string(data), "\n")
	d.files[path] = strings.TrimSuffix(s, "\r")
	d.set[path] = true
}

var errNotRegular = errors.New("not a regular file")

// readFile reads a file named in the configuration. A relative name is
// relative to the configuration file's directory, so that check-config and
// the service agree wherever they are started from. Only regular files are
// read: a FIFO or device would block or never end.
func (d *decoder) readFile(name string) ([]byte, error) {
	if !filepath.IsAbs(name) {
		name = filepath.Join(d.dir, name)
	}
	fi, err := os.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("cannot read %s: %w", name, errNotRegular)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read file: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s is larger than 1 MiB", name)
	}
	return data, nil
}

// secret settles a secret that may be given inline or as a *_file: both at
// once is an error, since one would silently win.
func (d *decoder) secret(valuePath string, value *string, filePath string) {
	if !d.set[filePath] {
		return
	}
	fromFile := d.files[filePath]
	if d.set[valuePath] {
		d.errorf(filePath, "set either %s or %s, not both", lastKey(valuePath), lastKey(filePath))
		return
	}
	if fromFile == "" {
		d.errorf(filePath, "the file is empty")
		return
	}
	*value = fromFile
	d.set[valuePath] = true
}

// lastKey is the final key of a path: "secret" for "cookie.secret".
func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// expand replaces ${NAME} with the variable's value and $$ with $. Any other
// "$" stays as written, so passwords with a "$" survive. Expanded values are
// not expanded again. Errors never quote the text: it may be a secret.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			s = s[i+2:]
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", errors.New(`unterminated "${" (write $$ for a literal $)`)
			}
			name := s[i+2 : i+2+end]
			if !validEnvName(name) {
				return "", errors.New(`invalid variable name in "${…}": use letters, digits and _ (write $$ for a literal $)`)
			}
			v, ok := lookup(name)
			if !ok {
				return "", fmt.Errorf("environment variable %s is not set", name)
			}
			b.WriteString(v)
			s = s[i+3+end:]
		default:
			b.WriteByte('$')
			s = s[i+1:]
		}
	}
}

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
