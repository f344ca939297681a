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

// entry is one key of a mapping after merge keys ("<<") are applied.
type entry struct {
	key      string
	line     int
	value    ast.Node
	explicit bool // written in this mapping, not merged from elsewhere
}

// fields maps the keys a mapping may have to their decoders.
type fields map[string]func(v ast.Node, path string)

const (
	maxIndirections = 16 // anchors, tags and aliases around one value
	maxMergeDepth   = 8  // "<<" inside merged mappings; also breaks cycles
)

// parse turns data into the root node of its single document. A nil node
// with no problems means an empty file.
func (d *decoder) parse(data []byte) (root ast.Node) {
	data = []byte(strings.TrimPrefix(string(data), "\ufeff")) // editors on Windows add a BOM
	if !utf8.Valid(data) {
		valid := data
		for len(valid) > 0 && !utf8.Valid(valid) {
			valid = valid[:len(valid)-1]
		}
		d.add("", 1+strings.Count(string(valid), "\n"),
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

// collectAnchors records every anchor under n, so that aliases can be
// resolved whatever part of the schema they sit in.
func (d *decoder) collectAnchors(n ast.Node) {
	switch v := n.(type) {
	case *ast.AnchorNode:
		d.anchors = append(d.anchors, v)
		d.collectAnchors(v.Value)
	case *ast.TagNode:
		d.collectAnchors(v.Value)
	case *ast.MappingNode:
		for _, kv := range v.Values {
			d.collectAnchors(kv)
		}
	case *ast.MappingValueNode:
		if v != nil {
			d.collectAnchors(v.Key)
			d.collectAnchors(v.Value)
		}
	case *ast.SequenceNode:
		for _, e := range v.Values {
			d.collectAnchors(e)
		}
	}
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

func lineOf(n ast.Node) int {
	if n == nil {
		return 0
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

// resolve looks through anchors, tags and aliases to the node that holds
// the value. Tags are ignored: the schema, not the tag, decides a value's
// type. An alias to an unknown anchor is returned as is and then fails the
// caller's kind check.
func (d *decoder) resolve(n ast.Node) ast.Node {
	for range maxIndirections {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			a := d.anchorFor(v)
			if a == nil {
				return v
			}
			n = a.Value
		default:
			return n
		}
	}
	return n
}

// anchorFor finds the anchor an alias refers to: the last one of that name
// before the alias, as YAML defines it.
func (d *decoder) anchorFor(alias *ast.AliasNode) *ast.AnchorNode {
	name := scalarText(alias.Value)
	at := offsetOf(alias)
	var found *ast.AnchorNode
	for _, a := range d.anchors {
		if scalarText(a.Name) == name && offsetOf(a) < at {
			found = a
		}
	}
	return found
}

func offsetOf(n ast.Node) int {
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Offset
	}
	return 0
}

func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

// isScalar reports whether n (resolved) is a plain value.
func isScalar(n ast.Node) bool {
	switch n.(type) {
	case *ast.StringNode, *ast.LiteralNode, *ast.IntegerNode, *ast.FloatNode,
		*ast.BoolNode, *ast.InfinityNode, *ast.NanNode, *ast.NullNode:
		return true
	}
	return false
}

// kind names a node's shape for messages.
func kind(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.AliasNode:
		return "an alias to an unknown anchor"
	default:
		return "a single value"
	}
}

// scalarText is the source text of a scalar: the unquoted string, or the
// number or boolean exactly as written, so "0123" stays "0123".
func scalarText(n ast.Node) string {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value
	case *ast.LiteralNode:
		if v.Value != nil {
			return v.Value.Value
		}
		return ""
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// entries lists the keys of the mapping n in file order, applying merge
// keys: a key written in the mapping wins over a merged one, and earlier
// merge sources win over later ones. A null n is an empty mapping.
func (d *decoder) entries(n ast.Node, path string) []entry {
	return d.entriesDepth(n, path, 0)
}

func (d *decoder) entriesDepth(n ast.Node, path string, depth int) []entry {
	n = d.resolve(n)
	if isNull(n) {
		return nil
	}
	m, ok := n.(ast.MapNode)
	if !ok {
		d.add(path, lineOf(n), "must be a mapping, not "+kind(n))
		return nil
	}
	var items []entry
	iter := m.MapRange()
	for iter.Next() {
		kv := iter.KeyValue()
		if _, merge := kv.Key.(*ast.MergeKeyNode); merge {
			items = append(items, d.mergeSources(kv.Value, path, lineOf(kv.Key), depth)...)
			continue
		}
		key := d.resolve(kv.Key)
		if !isScalar(key) {
			d.add(path, lineOf(kv.Key), "keys must be plain strings")
			continue
		}
		items = append(items, entry{key: scalarText(key), line: lineOf(kv.Key), value: kv.Value, explicit: true})
	}
	winner := map[string]int{}
	for i, e := range items {
		j, seen := winner[e.key]
		if !seen || (e.explicit && !items[j].explicit) {
			winner[e.key] = i
		}
	}
	out := make([]entry, 0, len(winner))
	for _, e := range items {
		if i, ok := winner[e.key]; ok {
			out = append(out, items[i])
			delete(winner, e.key)
		}
	}
	return out
}

// mergeSources returns the entries a "<<" key brings in: from one mapping
// or from a list of mappings.
func (d *decoder) mergeSources(v ast.Node, path string, line, depth int) []entry {
	if depth >= maxMergeDepth {
		d.add(path, line, "merge keys (<<) nest too deeply")
		return nil
	}
	v = d.resolve(v)
	var sources []ast.Node
	switch s := v.(type) {
	case *ast.SequenceNode:
		sources = s.Values
	case ast.MapNode:
		sources = []ast.Node{v}
	default:
		d.add(path, line, "a merge key (<<) takes a mapping or a list of mappings")
		return nil
	}
	var out []entry
	for _, src := range sources {
		for _, e := range d.entriesDepth(src, path, depth+1) {
			e.explicit = false
			out = append(out, e)
		}
	}
	return out
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
