package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/socialgate/socialgate/config"
)

// sessions lists or revokes sessions in the configured store. Against Redis
// a revocation is seen by every replica at once: there is no other copy.
func sessions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "revoke") {
		return errors.New("sessions: want 'list' or 'revoke'")
	}
	verb := args[0]
	fs := flag.NewFlagSet("sessions "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration `file` (YAML)")
	user := fs.String("user", "", "the user, as `PROVIDER:SUBJECT` (kakao:123)")
	all := fs.Bool("all", false, "revoke: every session of every user")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("sessions: --config is required")
	}
	if (*user == "") == !*all || (verb == "list" && *all) {
		return errors.New("sessions: give --user PROVIDER:SUBJECT (or, for revoke, --all)")
	}
	if *user != "" && !strings.Contains(*user, ":") {
		return fmt.Errorf("sessions: --user %q: want PROVIDER:SUBJECT", *user)
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	store, err := newStore(cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	switch {
	case verb == "list":
		list, err := store.ListUser(ctx, *user)
		if err != nil {
			return err
		}
		for _, s := range list {
			fmt.Fprintf(stdout, "%s started=%s last_seen=%s session=%s\n", s.User(),
				s.CreatedAt.UTC().Format(time.RFC3339), s.LastSeen.UTC().Format(time.RFC3339), fingerprint(s.ID))
		}
		if len(list) == 0 {
			fmt.Fprintf(stderr, "%s: no live sessions\n", *user)
		}
	case *all:
		n, err := store.DeleteAll(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %d sessions\n", n)
	default:
		n, err := store.DeleteUser(ctx, *user)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: revoked %d sessions\n", *user, n)
	}
	return nil
}

// fingerprint names a session without printing its ID, which is a bearer
// credential.
func fingerprint(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:6])
}
