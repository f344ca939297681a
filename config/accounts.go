package config

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// Accounts turns provider logins into gateway users that own one or more
// provider identities.
type Accounts struct {
	// Enabled: X-Forwarded-User is the gateway user ID ("sg_…") and
	// /oauth2/connect and /oauth2/disconnect link and unlink identities.
	// Default false.
	Enabled bool
	// LinkByEmail: a first login whose e-mail the provider marks verified
	// joins the user who already has that verified e-mail. Only verified
	// ones: an unverified address is whatever the person typed, so joining
	// on it would hand an account to whoever claims its e-mail first.
	// Default false.
	LinkByEmail bool
	// File keeps the links of the memory store across restarts (the Redis
	// store keeps them in Redis). Relative to the configuration file's
	// directory. Default, with accounts on and the memory store,
	// "socialgate-accounts.json" there; otherwise "".
	File string
}

// defaultAccountsFile is accounts.file's default, next to the config file.
const defaultAccountsFile = "socialgate-accounts.json"

func (d *decoder) accounts(n ast.Node, path string, a *Accounts) {
	d.mapping(n, path, fields{
		"enabled":       d.boolean(&a.Enabled),
		"link_by_email": d.boolean(&a.LinkByEmail),
		"file":          d.str(&a.File),
	})
}

func (d *decoder) validateAccounts(c *Config) {
	a := &c.Accounts
	if a.LinkByEmail && !a.Enabled {
		d.errorf("accounts.link_by_email", "needs accounts.enabled: true")
	}
	if d.set["accounts.file"] && c.Session.Store == StoreRedis {
		d.errorf("accounts.file", "is only used with session.store: memory (Redis keeps the accounts)")
	}
	if a.Enabled && c.Session.Store != StoreRedis {
		orDefault(d, "accounts.file", &a.File, defaultAccountsFile)
		if !filepath.IsAbs(a.File) {
			a.File = filepath.Join(d.dir, a.File)
		}
	}
	for i, u := range c.Upstreams {
		for j, user := range u.Allow.Users {
			if strings.HasPrefix(user, "sg_") && !a.Enabled {
				d.errorf(fmt.Sprintf("upstreams[%d].allow.users[%d]", i, j), "a gateway user ID needs accounts.enabled: true")
			}
		}
	}
}
