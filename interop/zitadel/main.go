// Command zitadel-op runs zitadel's example OpenID Provider
// (github.com/zitadel/oidc/v3/example/server) on a loopback address, with
// one confidential web client whose redirect URI is the gateway's
// callback, so that socialgate's generic OpenID Connect kind is tested
// against an issuer its authors did not write. It lives in a module of its
// own so that zitadel never becomes a dependency of socialgate itself.
//
// When it listens it prints one line, "issuer <URL>", on stdout; it stops
// on SIGINT or SIGTERM. The users are the example's: test-user@127.0.0.1
// and test-user2, both with the password "verysecure". The full test tier
// builds and starts it (proxy/zitadel_harness_test.go); by hand:
//
//	go run . -addr 127.0.0.1:9998 \
//		-redirect-uri http://127.0.0.1:4180/oauth2/callback/zitadel \
//		-post-logout-redirect-uri http://127.0.0.1:4180/oauth2/signed_out
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback `host:port` to listen on (port 0: any free port)")
	clientID := flag.String("client-id", "socialgate", "the web client's id")
	secret := flag.String("client-secret", "socialgate-secret", "the web client's secret")
	redirect := flag.String("redirect-uri", "", "the gateway's callback, the client's only redirect URI (required)")
	postLogout := flag.String("post-logout-redirect-uri", "", "the client's only post_logout_redirect_uri (optional)")
	flag.Parse()
	if err := run(*addr, *clientID, *secret, *redirect, *postLogout); err != nil {
		fmt.Fprintln(os.Stderr, "zitadel-op:", err)
		os.Exit(1)
	}
}

func run(addr, clientID, secret, redirect, postLogout string) error {
	if redirect == "" {
		return errors.New("-redirect-uri is required")
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %s: only a loopback IP address", addr)
	}
	// Listen first: with port 0 the issuer names the port the kernel chose,
	// and nobody can take it between choosing and serving.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	issuer := "http://" + ln.Addr().String() + "/"

	users := storage.NewUserStore(issuer)
	client := storage.WebClient(clientID, secret, redirect)
	stor := &clientStorage{
		Storage:    storage.NewStorageWithClients(users, map[string]*storage.Client{clientID: client}),
		postLogout: postLogout,
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := &http.Server{
		Handler:           exampleop.SetupServer(issuer, stor, logger, false),
		ReadHeaderTimeout: 10 * time.Second,
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Println("issuer", issuer)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// clientStorage is the example's in-memory storage, but its clients accept
// the post_logout_redirect_uri given by flag: the example's clients accept
// none, so RP-initiated logout would always end on its own page.
type clientStorage struct {
	*storage.Storage
	postLogout string
}

func (s *clientStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil || s.postLogout == "" {
		return c, err
	}
	return postLogoutClient{Client: c, uri: s.postLogout}, nil
}

// postLogoutClient is a client with one registered post-logout URI.
type postLogoutClient struct {
	op.Client
	uri string
}

func (c postLogoutClient) PostLogoutRedirectURIs() []string { return []string{c.uri} }
