package main

import (
	"testing"

	"github.com/socialgate/socialgate/config"
)

// TestReloadRefusesAccountsChange: accounts live in the session manager,
// which a reload keeps, so turning them on or off needs a restart.
func TestReloadRefusesAccountsChange(t *testing.T) {
	cur := &config.Config{}
	for _, next := range []config.Accounts{{Enabled: true}, {LinkByEmail: true}, {File: "/tmp/a.json"}} {
		n := &config.Config{Accounts: next}
		if got := needsRestart(cur, n); got != "a change under accounts" {
			t.Errorf("%+v: needsRestart = %q", next, got)
		}
	}
	if got := needsRestart(cur, &config.Config{}); got != "" {
		t.Errorf("no change: %q", got)
	}
}
