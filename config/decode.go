package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// decoder walks the YAML syntax tree of one file against the schema. It
// works on the tree rather than on yaml.Unmarshal so that every key, list
// entry and value keeps its line, and so that one pass can report every
// problem instead of stopping at the first.
type decoder struct {
	name   string // the file name problems carry
	dir    string // relative *_file paths are read from here
	lookup func(string) (string, bool)

	anchors []*ast.AnchorNode
	// lines maps a key path to the line of its key (or list entry). It is
	// how a problem found after decoding still points at the right line.
	lines map[string]int
	// set holds the key paths that were given a non-empty value; the rest
	// get their defaults.
	set map[string]bool
	// files holds what each *_file key read, until the secret rules settle
	// which form of the secret wins.
	files map[string]string
	// Values whose Config type is not a string, kept as written until
	// validation converts them.
	sameSite, logLevel string
	trustedProxies     []string
	// schema, when not nil, collects the keys each decoded mapping allows,
	// by path; a test uses it to check that the example shows every key.
	schema map[string][]string

	problems []Problem
	// undecodable holds the paths whose value could not be decoded;
	// validation stays quiet about them, since "must not be empty" after
	// "environment variable X is not set" only adds noise.
	undecodable map[string]bool
	validating  bool
}

func newDecoder(file string, lookup func(string) (string, bool)) *decoder {
	return &decoder{
		name:        file,
		dir:         filepath.Dir(file),
		lookup:      lookup,
		lines:       map[string]int{},
		set:         map[string]bool{},
		files:       map[string]string{},
		undecodable: map[string]bool{},
	}
}

// fields maps the keys a mapping may have to their decoders.
type fields map[string]func(v ast.Node, path string)

// parse turns data into the root node of its single document. A nil node
// with no problems means an empty file.
func (d *decoder) parse(data []byte) (root ast.Node) {
	data = []byte(strings.TrimPrefix(string(data), "\ufeff")) // editors on Windows add a BOM
	if bad := firstInvalidUTF8(data); bad >= 0 {
		d.add("", 1+strings.Count(string(data[:bad]), "\n"),
			"the file is not valid UTF-8 (save it as UTF-8; EUC-KR files are not supported)")
		return nil
	}
	f, err := parseYAML(data)
	if err != nil {
		line, msg := 1, "invalid YAML"
		var yerr yaml.Error
		if errors.As(err, &yerr) {
			// GetMessage, not Error: Error quotes the source lines, and
			// those may hold a secret.
			msg = "invalid YAML: " + yerr.GetMessage()
			if tk := yerr.GetToken(); tk != nil && tk.Position != nil && tk.Position.Line > 0 {
				line = tk.Position.Line
			}
		}
		d.add("", line, msg)
		return nil
	}
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if root != nil {
			line := lineOf(doc.Body)
			if doc.Start != nil && doc.Start.Position != nil {
				line = doc.Start.Position.Line // the "---"
			}
			d.add("", line, "only one YAML document is allowed")
			return nil
		}
		root = doc.Body
	}
	d.collectAnchors(root)
	return root
}

// firstInvalidUTF8 returns the offset of the first byte that is not UTF-8,
// or -1.
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// parseYAML runs the parser, turning a panic into an error: the parser is
// third-party code and a configuration file is untrusted input.
func parseYAML(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, errors.New("yaml parser failed")
		}
	}()
	return parser.ParseBytes(data, 0)
}

// add records a problem at a known line.
func (d *decoder) add(path string, line int, msg string) {
	if d.validating && d.undecodable[path] {
		return
	}
	if !d.validating {
		d.undecodable[path] = true
	}
	if line < 1 {
		line = d.line(path)
	}
	d.problems = append(d.problems, Problem{File: d.name, Line: line, Path: path, Msg: msg})
}

// errorf records a problem at the line of path (or of its nearest parent).
func (d *decoder) errorf(path, format string, args ...any) {
	d.add(path, d.line(path), fmt.Sprintf(format, args...))
}

// line returns the line of path, or of its nearest recorded parent, or 1.
func (d *decoder) line(path string) int {
	for path != "" {
		if l, ok := d.lines[path]; ok && l > 0 {
			return l
		}
		path = parentPath(path)
	}
	return 1
}

// parentPath drops the last ".key" or "[i]" of path.
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping decodes the mapping n with fs, reporting every key fs lacks.
func (d *decoder) mapping(n ast.Node, path string, fs fields) {
	known := make([]string, 0, len(fs))
	for k := range fs {
		known = append(known, k)
	}
	if d.schema != nil {
		d.schema[path] = known
	}
	for _, e := range d.entries(n, path) {
		p := joinPath(path, e.key)
		f, ok := fs[e.key]
		if !ok {
			d.add(p, e.line, unknownKey(e.key, known))
			continue
		}
		d.lines[p] = e.line
		f(e.value, p)
	}
}

// list calls each for every entry of the list n; a null n is an empty list.
func (d *decoder) list(n ast.Node, path string, each func(v ast.Node, path string)) {
	n = d.resolve(n)
	if isNull(n) {
		return
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.add(path, lineOf(n), "must be a list, not "+kind(n))
		return
	}
	for i, v := range seq.Values {
		p := fmt.Sprintf("%s[%d]", path, i)
		if l := lineOf(v); l > 0 {
			d.lines[p] = l
		} else {
			d.lines[p] = d.line(path)
		}
		each(v, p)
	}
}

// text returns the value of a scalar with ${VAR} expanded. ok is false for
// null, for "" (which means the same as leaving the key out) and when a
// problem was reported.
func (d *decoder) text(n ast.Node, path string) (s string, ok bool) {
	n = d.resolve(n)
	if isNull(n) {
		return "", false
	}
	if !isScalar(n) {
		d.add(path, lineOf(n), "must be a single value, not "+kind(n))
		return "", false
	}
	s, err := expand(scalarText(n), d.lookup)
	if err != nil {
		d.add(path, lineOf(n), err.Error())
		return "", false
	}
	return s, s != ""
}
