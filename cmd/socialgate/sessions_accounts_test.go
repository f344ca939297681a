package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/session"
)

// TestSessionsGatewayUser: with accounts on, the ID the app sees (sg_…)
// names the person for the sessions commands: every linked identity's
// sessions are listed and revoked, and nobody else's.
func TestSessionsGatewayUser(t *testing.T) {
	ctx := context.Background()
	addr, _ := cliRedis(t)
	path := writeConfig(t, cliConfig{redisAddr: addr, accounts: true})
	r, _ := cliStore(t, addr)
	m, err := session.NewManager(session.ManagerOptions{Store: r, Accounts: session.AccountsOptions{Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := m.SignInAccount(ctx, session.SignInLogin{Identity: "kakao:1"})
	if err != nil {
		t.Fatal(err)
	}
	if acc, err = m.LinkIdentity(ctx, acc.ID, "naver:2"); err != nil {
		t.Fatal(err)
	}
	other, err := m.SignInAccount(ctx, session.SignInLogin{Identity: "google:3"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ ident, account string }{
		{"kakao:1", acc.ID}, {"kakao:1", acc.ID}, {"naver:2", acc.ID}, {"google:3", other.ID},
	} {
		p, sub, _ := strings.Cut(s.ident, ":")
		if _, err := m.Create(ctx, &session.Session{Provider: p, Subject: sub, Account: s.account}, ""); err != nil {
			t.Fatal(err)
		}
	}

	// A session the store still holds but serve would refuse (signed in
	// 30 days ago, past session.lifetime): not listed, as with PROVIDER:SUBJECT.
	past, err := session.NewManager(session.ManagerOptions{Store: r, Accounts: session.AccountsOptions{Enabled: true},
		Now: func() time.Time { return time.Now().Add(-30 * 24 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := past.Create(ctx, &session.Session{Provider: "kakao", Subject: "1", Account: acc.ID}, ""); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCLI("sessions", "list", "--config", path, "--user", acc.ID)
	if code != 0 {
		t.Fatalf("list: exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("list %s: %d lines, want 3 (two Kakao, one Naver):\n%s", acc.ID, len(lines), out)
	}
	for _, l := range lines {
		if !strings.Contains(l, " account="+acc.ID+" ") || strings.HasPrefix(l, "google:") {
			t.Errorf("line %q: not one of %s's sessions", l, acc.ID)
		}
	}

	code, out, errOut = runCLI("sessions", "revoke", "--config", path, "--user", acc.ID)
	// Revoking deletes what the store holds, the expired one too.
	if want := acc.ID + " (kakao:1, naver:2): revoked 4 sessions\n"; code != 0 || out != want {
		t.Fatalf("revoke: exit %d, stdout %q (want %q), stderr %q", code, out, want, errOut)
	}
	for ident, want := range map[string]int{"kakao:1": 0, "naver:2": 0, "google:3": 1} {
		if got := liveCount(t, r, ident); got != want {
			t.Errorf("%s: %d sessions left, want %d", ident, got, want)
		}
	}

	// A well-formed ID of nobody is an error, not "no sessions": a typo
	// must not look like a clean revocation.
	nobody := session.AccountIDPrefix + strings.Repeat("A", 22)
	if code, _, errOut := runCLI("sessions", "revoke", "--config", path, "--user", nobody); code != 1 ||
		!strings.Contains(errOut, "no such gateway user") {
		t.Errorf("revoke %s: exit %d, stderr %q; want 1 and no such gateway user", nobody, code, errOut)
	}
	// A provider whose id starts with sg_ names an identity, not a user.
	if code, out, errOut := runCLI("sessions", "revoke", "--config", path, "--user", "sg_corp:123"); code != 0 ||
		out != "sg_corp:123: revoked 0 sessions\n" {
		t.Errorf("revoke sg_corp:123: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Without accounts an sg_ ID names nobody: a usage error.
	plain := writeConfig(t, cliConfig{redisAddr: addr})
	if code, _, errOut := runCLI("sessions", "list", "--config", plain, "--user", acc.ID); code != 2 ||
		!strings.Contains(errOut, "accounts.enabled is false") {
		t.Errorf("list %s without accounts: exit %d, stderr %q", acc.ID, code, errOut)
	}
}
