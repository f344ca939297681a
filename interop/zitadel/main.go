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
//
// With -service-client-id it also registers a service client for the
// client-credentials grant whose access tokens are JWTs, for the gateway's
// bearer routes (see serviceClient):
//
//	-service-client-id batch -service-client-secret batch-secret \
//		-service-scopes 'wiki.read wiki.write' -service-audience wiki-api
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
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback `host:port` to listen on (port 0: any free port)")
	clientID := flag.String("client-id", "socialgate", "the web client's id")
	secret := flag.String("client-secret", "socialgate-secret", "the web client's secret")
	redirect := flag.String("redirect-uri", "", "the gateway's callback, the client's only redirect URI (required)")
	postLogout := flag.String("post-logout-redirect-uri", "", "the client's only post_logout_redirect_uri (optional)")
	var svc service
	flag.StringVar(&svc.id, "service-client-id", "", "a service client for the client-credentials grant, with JWT access tokens (optional)")
	flag.StringVar(&svc.secret, "service-client-secret", "", "the service client's secret (client_secret_basic)")
	scopes := flag.String("service-scopes", "", "space-separated `scopes` the service client may be granted; others it asks for are dropped")
	audience := flag.String("service-audience", "", "space-separated `audiences` put before the client's own id in aud (the example's aud is the client id alone)")
	flag.BoolVar(&svc.scopeClaim, "service-scope-claim", false, "write the granted scopes into the access token's scope claim (zitadel's op.CreateJWT writes none)")
	flag.Parse()
	svc.scopes, svc.audience = strings.Fields(*scopes), strings.Fields(*audience)
	if err := run(*addr, *clientID, *secret, *redirect, *postLogout, svc); err != nil {
		fmt.Fprintln(os.Stderr, "zitadel-op:", err)
		os.Exit(1)
	}
}

func run(addr, clientID, secret, redirect, postLogout string, svc service) error {
	if redirect == "" {
		return errors.New("-redirect-uri is required")
	}
	if svc.id != "" && svc.secret == "" {
		return errors.New("-service-client-id needs -service-client-secret")
	}
	if svc.id == clientID {
		return errors.New("-service-client-id must differ from -client-id")
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
		service:    svc,
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
// none, so RP-initiated logout would always end on its own page. It also
// answers the client-credentials grant for the service client of the
// flags instead of the example's hard-wired "sid1", whose access tokens
// are opaque and so useless to a resource server that verifies JWTs.
type clientStorage struct {
	*storage.Storage
	postLogout string
	service    service
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

// service is the service client of the -service-* flags; id "" is none.
type service struct {
	id, secret string
	scopes     []string // what it may be granted
	audience   []string // put before its id in aud
	scopeClaim bool
}

// ClientCredentials authenticates the service client (op.ClientCredentialsStorage).
// Without -service-client-id it is the example's own, with "sid1".
func (s *clientStorage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	if s.service.id == "" {
		return s.Storage.ClientCredentials(ctx, id, secret)
	}
	if id != s.service.id || secret != s.service.secret {
		return nil, errors.New("wrong service client or secret")
	}
	return serviceClient{storage.WebClient(id, secret)}, nil
}

// ClientCredentialsTokenRequest is what the example's does (subject and
// audience the client's id), but the scopes are narrowed to those the
// client may have (RFC 6749 3.3 lets the server grant fewer than asked),
// and the -service-audience values come first in aud.
func (s *clientStorage) ClientCredentialsTokenRequest(ctx context.Context, id string, scopes []string) (op.TokenRequest, error) {
	if s.service.id == "" {
		return s.Storage.ClientCredentialsTokenRequest(ctx, id, scopes)
	}
	if id != s.service.id {
		return nil, errors.New("wrong service client or secret")
	}
	var granted []string
	for _, sc := range scopes {
		if slices.Contains(s.service.scopes, sc) && !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	return &oidc.JWTTokenRequest{
		Subject:  id,
		Audience: append(slices.Clone(s.service.audience), id),
		Scopes:   granted,
	}, nil
}

// GetPrivateClaimsFromScopes adds, with -service-scope-claim, the granted
// scopes to the service client's JWT access tokens as RFC 9068's scope
// claim. zitadel's op.CreateJWT leaves AccessTokenClaims.Scopes empty: the
// scopes reach only this hook, which is the library's way for a storage
// to put claims of its own into an access token.
func (s *clientStorage) GetPrivateClaimsFromScopes(ctx context.Context, userID, clientID string, scopes []string) (map[string]any, error) {
	claims, err := s.Storage.GetPrivateClaimsFromScopes(ctx, userID, clientID, scopes)
	if err != nil || !s.service.scopeClaim || clientID != s.service.id || len(scopes) == 0 {
		return claims, err
	}
	if claims == nil {
		claims = map[string]any{}
	}
	claims["scope"] = strings.Join(scopes, " ")
	return claims, nil
}

// serviceClient is a confidential client of the client-credentials grant
// alone, with JWT access tokens. The example's Client has unexported
// fields, so it starts from a web client (client_secret_basic) and
// overrides where a service client differs.
type serviceClient struct{ *storage.Client }

func (serviceClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeClientCredentials}
}
func (serviceClient) ResponseTypes() []oidc.ResponseType  { return nil }
func (serviceClient) RedirectURIs() []string              { return nil }
func (serviceClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (serviceClient) PostLogoutRedirectURIs() []string    { return nil }
