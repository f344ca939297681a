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
	"github.com/socialgate/socialgate/session"
)

// sessions lists or revokes sessions in the configured store. Against Redis
// a revocation is seen by every replica within a second: the store has the
// only durable copy, and replicas that cache sessions hear of it.
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
	if cfg.Session.Store != config.StoreRedis {
		// A memory store lives inside the serve process: a fresh empty one
		// here would report success and change nothing.
		return fmt.Errorf("sessions: session.store is %q; sessions live inside the serve process and cannot be listed or revoked from outside (use store: redis)", cfg.Session.Store)
	}
	store, err := newStore(cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	// Revoking through a Manager also tells every replica's session cache
	// (session.cache_ttl); this one needs no cache of its own.
	mgr, err := session.NewManager(session.ManagerOptions{Store: store})
	if err != nil {
		return err
	}
	defer mgr.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	switch {
	case verb == "list":
		list, err := mgr.UserSessions(ctx, *user)
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
		n, err := mgr.EndAll(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %d sessions\n", n)
	default:
		n, err := mgr.EndUser(ctx, *user)
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
