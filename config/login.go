package config

import "github.com/goccy/go-yaml/ast"

// defaultReplayMaxBytes is login.replay_max_bytes when it is not set: 1 MiB.
const defaultReplayMaxBytes = 1 << 20

// Login configures what a login carries besides the identity.
type Login struct {
	// ReplayMaxBytes is the largest browser form POST (urlencoded or
	// multipart) kept across a login, to be delivered to its URL once the
	// user is signed in. Default 1 MiB; 0 turns replay off.
	ReplayMaxBytes int
}

func (d *decoder) login(n ast.Node, path string, l *Login) {
	d.mapping(n, path, fields{
		"replay_max_bytes": d.integer(&l.ReplayMaxBytes),
	})
}

func (d *decoder) validateLogin(l *Login) {
	orDefault(d, "login.replay_max_bytes", &l.ReplayMaxBytes, defaultReplayMaxBytes)
	if l.ReplayMaxBytes < 0 {
		d.errorf("login.replay_max_bytes", "must not be negative (0 turns replay off)")
	}
	// The form rides in the login state, which is sealed in the store and
	// counted against the pending-login budget: keep it a form, not a file
	// store.
	if l.ReplayMaxBytes > 16<<20 {
		d.errorf("login.replay_max_bytes", "at most 16777216 (16 MiB)")
	}
}
