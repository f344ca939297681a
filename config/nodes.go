package config

import (
	"github.com/goccy/go-yaml/ast"
)

// entry is one key of a mapping after merge keys ("<<") are applied.
type entry struct {
	key      string
	line     int
	value    ast.Node
	explicit bool // written in this mapping, not merged from elsewhere
}

const (
	maxIndirections = 16 // anchors, tags and aliases around one value
	maxMergeDepth   = 8  // "<<" inside merged mappings; also breaks cycles
)

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
		if v != nil {
			for _, kv := range v.Values {
				d.collectAnchors(kv)
			}
		}
	case *ast.MappingValueNode:
		if v != nil {
			d.collectAnchors(v.Key)
			d.collectAnchors(v.Value)
		}
	case *ast.SequenceNode:
		if v != nil {
			for _, e := range v.Values {
				d.collectAnchors(e)
			}
		}
	}
}

// lineOf is the line n starts on, 0 when unknown.
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
