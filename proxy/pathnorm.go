package proxy

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Paths that read differently after normalisation.
//
// cleanPath refuses spellings that are ambiguous on their own (encoded
// slashes, dot-segments, double escapes). What is left can still be read
// differently by the app behind: Java, .NET and macOS file systems
// normalise Unicode (NFC or NFKC: "ｐrivate" is "private" under NFKC, and a
// Hangul syllable typed in NFD is the same word as its NFC form), and
// Windows file APIs and many frameworks trim spaces and trailing dots
// ("/private " and "/private." are "/private" there). Such a path is a 400
// when one of those readings falls to another route than the path itself:
// routing then depends on who reads it. When every reading stays on the
// same route, the path is served as it came (the route's own rules apply
// either way).

// ambiguous reports whether a reading of the cleaned path p (see
// pathReadings) matches another route than rt, the route p itself matches
// on host. It does not allocate for ASCII paths without spaces or
// trailing dots in a segment, which is nearly every request.
func (pol *policy) ambiguous(host, p string, rt *route) bool {
	i := readingsFrom(p)
	if i < 0 {
		return false
	}
	// Whatever the routes: a reading that makes a segment of dots only
	// ("..\u200b" trimmed) climbs out of the route p matched in an app that
	// normalises before it resolves dot-segments.
	if dotReading(p, i) {
		return true
	}
	// Readings change nothing before the segment holding byte i, so a
	// policy whose every route prefix ends by then matches them all alike:
	// with only "/" and "/app/", "/app/보고서" needs no reading at all.
	if pol.maxPrefix <= strings.LastIndexByte(p[:i], '/') {
		return false
	}
	// Most non-ASCII paths (Hangul typed by a browser is NFC, and NFKC
	// leaves precomposed syllables alone) change under no reading: the
	// quick checks below tell without allocating.
	nfc, nfkc, trim := norm.NFC.QuickSpanString(p) < len(p), norm.NFKC.QuickSpanString(p) < len(p), needsTrim(p)
	if !nfc && !nfkc && !trim {
		return false
	}
	for _, alt := range pathReadings(p) {
		if alt != p && pol.match(host, alt) != rt {
			return true
		}
	}
	return false
}

// dotReading reports whether a reading of a segment of p from the one
// holding byte from on is dots only. cleanPath has resolved or refused the
// path's own dot-segments, so such a segment is one the readings made. A
// segment no reading changes (Hangul as browsers send it) costs no
// allocation.
func dotReading(p string, from int) bool {
	start := strings.LastIndexByte(p[:from], '/') + 1
	for seg := range strings.SplitSeq(p[start:], "/") {
		base, _, _ := strings.Cut(seg, ";")
		if base == "" || norm.NFC.QuickSpanString(base) == len(base) &&
			norm.NFKC.QuickSpanString(base) == len(base) && !needsTrim(base) {
			continue
		}
		// The readings, and each trimmed of spaces alone: ".. " is ".." to
		// an app that trims spaces but keeps dots.
		alts := pathReadings(base) // alts[1] is the NFKC reading
		alts = append(alts, spaceTrimmed(base), spaceTrimmed(alts[1]))
		for _, alt := range alts {
			for part := range strings.SplitSeq(alt, "/") { // NFKC may make a '/'
				if part != "" && strings.Trim(part, ".") == "" {
					return true
				}
			}
		}
	}
	return false
}

// spaceTrimmed is s without format characters and with Unicode spaces
// trimmed from both ends.
func spaceTrimmed(s string) string {
	return strings.TrimFunc(dropFormat(s), unicode.IsSpace)
}

// dropFormat removes format characters (zero-width space and joiners,
// bidi controls), which some normalisers drop.
func dropFormat(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
}

// needsTrim reports whether trimSegments could change p: a space, a
// format character, or a dot at the end of a segment.
func needsTrim(p string) bool {
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			if c == ' ' || c < 0x20 || c == 0x7f || unicode.IsSpace(rune(c)) ||
				c == '.' && (i+1 == len(p) || p[i+1] == '/' || p[i+1] == ';') {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(p[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return true
		}
		i += size
	}
	return false
}

// readingsFrom is the cheap test: only non-ASCII bytes, control bytes
// (cleanPath refuses them already), spaces and dots at a segment's end or
// spaces at its start can change under the readings. It returns the index
// of the first such byte, or -1. A reading can change only the segment
// holding it and those after: NFC composes a combining mark with the
// character before it, never across the '/'.
func readingsFrom(p string) int {
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c >= utf8.RuneSelf || c < 0x20 || c == 0x7f:
			return i
		case c == ' ' || c == '.':
			if i+1 == len(p) || p[i+1] == '/' || p[i+1] == ';' || (c == ' ' && i > 0 && p[i-1] == '/') {
				return i
			}
		}
	}
	return -1
}

// pathReadings lists how upstreams may read p: NFC, NFKC, each segment
// trimmed (with invisible format characters removed), and NFKC then
// trimmed (a fullwidth space U+3000 becomes a space under NFKC).
func pathReadings(p string) []string {
	nfkc := norm.NFKC.String(p)
	return []string{norm.NFC.String(p), nfkc, trimSegments(p), trimSegments(nfkc)}
}

// trimSegments trims Unicode spaces from both ends of every segment and
// dots from its end, as Windows does with file names, and removes format
// characters (zero-width space and joiners, bidi controls), which some
// normalisers drop. A segment of only dots stays (cleanPath resolved or
// refused those already).
func trimSegments(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	for i, seg := range strings.Split(p, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		base, param, hasParam := strings.Cut(seg, ";")
		base = dropFormat(base)
		if strings.Trim(base, ".") != "" {
			base = strings.TrimFunc(base, unicode.IsSpace)
			base = strings.TrimRightFunc(base, func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
		}
		b.WriteString(base)
		if hasParam {
			b.WriteByte(';')
			b.WriteString(param)
		}
	}
	return b.String()
}
