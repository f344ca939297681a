package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong (or, from Warnings, risky) in a configuration
// file, tied to the line that shows it.
type Problem struct {
	// File is the file name given to Load or Parse.
	File string
	// Line is 1-based. A missing key points at the line of its parent
	// mapping, or line 1 when the parent is missing too.
	Line int
	// Path is the key path, such as "upstreams[0].url" or
	// "providers.kakao.client_id"; empty for problems with the file as a
	// whole (a YAML syntax error).
	Path string
	// Msg says what is wrong. It never contains a secret's value.
	Msg string
}

// String formats p as "FILE:LINE: key.path: what is wrong", the line
// format that check-config prints.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(p.Line))
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in one file, ordered by line. Load and
// Parse return it as their error so that a person fixes everything in one go.
type Problems []Problem

// Error returns one Problem.String line per problem, joined with "\n".
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// sortByLine orders problems by line, keeping the order in which they were
// found for problems on the same line (a key before its value's details).
func sortByLine(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
}

// unknownKey builds the message for a key the schema does not have, with a
// suggestion when a known key is a likely typo of it.
func unknownKey(key string, known []string) string {
	msg := fmt.Sprintf("unknown key %q", key)
	if s := closest(key, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

// closest returns the known word within edit distance 2 of word, preferring
// the nearest and then the alphabetically first; "" when none is that close.
func closest(word string, known []string) string {
	best, bestDist := "", 3
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	for _, k := range sorted {
		if d := editDistance(strings.ToLower(word), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes so that
// a Hangul typo counts as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
