package providers

import (
	"fmt"
	"slices"
)

// This file is the registry: the only place that says which provider kinds
// exist. A kind is either a spec (Google, Naver, Kakao, generic OpenID
// Connect: one file each) or a goth provider (gothkinds.go). config and cmd
// ask here instead of keeping lists of their own.

// builtinKinds are the kinds in the order messages list them first.
var builtinKinds = []string{"google", "naver", "kakao"}

// Kinds lists every provider kind: the built-in ones first, then the rest
// alphabetically.
func Kinds() []string {
	out := slices.Clone(builtinKinds)
	var rest []string
	for k := range specs {
		if !slices.Contains(out, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// BuiltinKinds lists the kinds with hand-written support and their own
// fakes, for messages that should stay short.
func BuiltinKinds() []string { return slices.Clone(builtinKinds) }

// IsKind reports whether kind names a provider kind.
func IsKind(kind string) bool {
	_, ok := specs[kind]
	return ok
}

// KindDisplayName is the kind's name for people ("Google", "GitHub"), the
// button label when an instance sets no display name; "" for an unknown kind.
func KindDisplayName(kind string) string {
	if s, ok := specs[kind]; ok {
		return s.displayName
	}
	return ""
}

// ValidID reports whether id may name a provider instance: it appears in
// URL paths (/oauth2/start/{id}), in user keys ("{id}:{subject}") and in
// headers, so it is kept to [a-z0-9][a-z0-9_-]*, at most 64 bytes.
func ValidID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// kindOf resolves an instance's kind: kind itself when set, else the id
// when the id names a kind.
func kindOf(id, kind string) (string, error) {
	if kind == "" {
		kind = id
	}
	if !IsKind(kind) {
		return "", fmt.Errorf("unknown provider kind %q", kind)
	}
	return kind, nil
}

// CheckSubject checks the subject half of a "{id}:{subject}" user key of
// an instance of kind, as allow.users names users: Kakao's and GitHub's
// subjects are decimal user ids.
func CheckSubject(kind, subject string) error {
	s, ok := specs[kind]
	if !ok || !s.numericSubject {
		return nil
	}
	for _, r := range subject {
		if r < '0' || r > '9' {
			return fmt.Errorf("a %s subject is the decimal user id", kind)
		}
	}
	if subject == "" {
		return fmt.Errorf("a %s subject is the decimal user id", kind)
	}
	return nil
}
