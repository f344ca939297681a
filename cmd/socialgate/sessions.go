package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/socialgate/socialgate/config"
	"github.com/socialgate/socialgate/session"
)

// storeTimeout bounds the first contact with the store, so that a Redis
// that is down or unreachable is reported in seconds.
const storeTimeout = 5 * time.Second

// sessions lists or revokes sessions in the configured store. Against Redis
// a revocation is seen by every replica within a second: the store has the
// only durable copy, and replicas that cache sessions hear of it.
func (c *cli) sessions(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("sessions", "want 'list' or 'revoke'")
	}
	verb := args[0]
	switch verb {
	case "-h", "-help", "--help":
		c.sessionsUsage(c.stdout)
		return nil
	case "list", "revoke":
	default:
		return usagef("sessions", "unknown verb %q: want 'list' or 'revoke'", verb)
	}
	fs := c.flagSet("sessions "+verb, "--config FILE (--user PROVIDER:SUBJECT | --user sg_… | --all)", verbSummary(verb))
	path := configFlag(fs)
	user := fs.String("user", "", "the `USER`: PROVIDER:SUBJECT (kakao:123), or a gateway user sg_… with accounts.enabled (every linked identity)")
	all := fs.Bool("all", false, "every user")
	if err := c.parse(fs, args[1:]); err != nil {
		return err
	}
	if *path == "" {
		return usagef(fs.Name(), "--config is required")
	}
	if (*user == "") == !*all {
		return usagef(fs.Name(), "give --user PROVIDER:SUBJECT or --all")
	}
	// A gateway user has no ':'; "sg_corp:123" is an identity of a
	// provider whose id happens to start with sg_.
	account := strings.HasPrefix(*user, session.AccountIDPrefix) && !strings.Contains(*user, ":")
	if *user != "" && !account && !strings.Contains(*user, ":") {
		return usagef(fs.Name(), "--user %q: want PROVIDER:SUBJECT or a gateway user sg_…", *user)
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if account && !cfg.Accounts.Enabled {
		return usagef(fs.Name(), "--user %s is a gateway user, but accounts.enabled is false in %s", *user, *path)
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
	// The config's lifetimes, so that "live" means here what it means to
	// serve: the store may still hold a session serve would refuse.
	mgr, err := session.NewManager(session.ManagerOptions{Store: store,
		Lifetime: cfg.Session.Lifetime, IdleTimeout: cfg.Session.IdleTimeout,
		Accounts: session.AccountsOptions{Enabled: cfg.Accounts.Enabled}})
	if err != nil {
		return err
	}
	defer mgr.Close()
	pctx, cancel := context.WithTimeout(ctx, storeTimeout)
	err = mgr.Ping(pctx)
	cancel()
	if err != nil {
		return fmt.Errorf("%s: cannot reach the session store (redis %s): %w", fs.Name(), strings.Join(cfg.Session.Redis.Addrs, ","), err)
	}
	ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	switch {
	case account:
		return accountSessions(ctx, mgr, verb, *user, c.stdout, c.stderr)
	case verb == "list":
		return listSessions(ctx, mgr, *user, c.stdout, c.stderr)
	case *all:
		n, err := mgr.EndAll(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "revoked %s\n", plural(n, "session"))
	default:
		n, err := mgr.EndUser(ctx, *user)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s: revoked %s\n", *user, plural(n, "session"))
	}
	return nil
}

// verbSummary says what a sessions verb does.
func verbSummary(verb string) string {
	if verb == "list" {
		return "one line per live session: the user, when it started, when it was last used,\n" +
			"and a fingerprint of the session (never its ID)"
	}
	return "end the sessions in the store; every replica stops serving them within a second"
}

func (c *cli) sessionsUsage(w io.Writer) {
	cmd, _ := lookup("sessions")
	fmt.Fprintf(w, "usage: socialgate sessions %s\n\n%s\n\n", cmd.args, cmd.summary)
	for _, v := range []string{"list", "revoke"} {
		fmt.Fprintf(w, "  %-7s %s\n", v, strings.ReplaceAll(verbSummary(v), "\n", "\n          "))
	}
	fmt.Fprintln(w, "\nRun 'socialgate sessions list -h' or 'socialgate sessions revoke -h' for the flags.")
}

// accountSessions lists or revokes the sessions of gateway user id: those
// of every identity linked to it. An ID that names no user is an error, so
// that a typo is not mistaken for "no sessions".
func accountSessions(ctx context.Context, mgr *session.Manager, verb, id string, stdout, stderr io.Writer) error {
	acc, err := mgr.Account(ctx, id)
	if errors.Is(err, session.ErrNoAccount) {
		return fmt.Errorf("%s: no such gateway user", id)
	}
	if err != nil {
		return err
	}
	if verb == "revoke" {
		n, err := mgr.EndAccount(ctx, acc)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s (%s): revoked %s\n", id, strings.Join(acc.Identities, ", "), plural(n, "session"))
		return nil
	}
	list, err := mgr.AccountSessions(ctx, acc)
	if err != nil {
		return err
	}
	for _, s := range list {
		printSession(stdout, s)
	}
	if len(list) == 0 {
		fmt.Fprintf(stderr, "%s: no live sessions\n", id)
	}
	return nil
}

// listSessions prints one line per live session of user, or of every user
// when user is "" (printSession).
func listSessions(ctx context.Context, mgr *session.Manager, user string, stdout, stderr io.Writer) error {
	users := []string{user}
	if user == "" {
		var err error
		if users, err = mgr.Users(ctx); err != nil {
			return err
		}
	}
	n := 0
	for _, u := range users {
		list, err := mgr.UserSessions(ctx, u)
		if err != nil {
			return err
		}
		for _, s := range list {
			printSession(stdout, s)
		}
		n += len(list)
	}
	switch {
	case n > 0:
	case user == "":
		fmt.Fprintln(stderr, "no live sessions")
	default:
		fmt.Fprintf(stderr, "%s: no live sessions\n", user)
	}
	return nil
}

// printSession is one line of a listing: the identity first, then when it
// started, when it was last used, a fingerprint, the gateway user with
// accounts, and the browser's address and User-Agent at sign-in (quoted:
// they came from the client).
func printSession(w io.Writer, s *session.Session) {
	acc := ""
	if s.Account != "" {
		acc = " account=" + s.Account
	}
	fmt.Fprintf(w, "%s started=%s last_seen=%s session=%s%s ip=%q user_agent=%q\n", s.User(),
		s.CreatedAt.UTC().Format(time.RFC3339), s.LastSeen.UTC().Format(time.RFC3339), fingerprint(s.ID),
		acc, s.IP, s.UserAgent)
}

// plural is "1 session", "2 sessions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// fingerprint names a session without printing its ID, which is a bearer
// credential.
func fingerprint(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:6])
}
