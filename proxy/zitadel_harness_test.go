package proxy_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socialgate/socialgate/providers"
)

// The generic OpenID Connect kind against an issuer socialgate's authors
// did not write: zitadel's example OpenID Provider
// (github.com/zitadel/oidc/v3/example/server), built from interop/zitadel,
// a module of its own so that zitadel never becomes socialgate's
// dependency. The fakes in providertest agree with the gateway by
// construction; this catches where both misread the specifications.

// zitadelDir is the interop program's module, relative to this package.
const zitadelDir = "../interop/zitadel"

// zitadelBuild builds the interop program once per test binary: the build
// (and, on a fresh machine, the module download) is the slow part. TestMain
// removes the binary's directory when the tests are done.
var zitadelBuild = &onceBuild{dir: zitadelDir}

// onceBuild is one `go build` of the main package in dir, done on first use.
type onceBuild struct {
	dir  string
	once sync.Once
	tmp  string // where the binary went
	bin  string
	err  error
}

func (b *onceBuild) get() (string, error) {
	b.once.Do(func() {
		if b.tmp, b.err = os.MkdirTemp("", "socialgate-interop-"); b.err != nil {
			return
		}
		b.bin = filepath.Join(b.tmp, filepath.Base(b.dir))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.bin, ".")
		cmd.Dir = b.dir
		cmd.Env = nestedModuleEnv()
		cmd.WaitDelay = 10 * time.Second // the compilers go build started may hold the output open
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = &buildError{err: err, out: string(out)}
		}
	})
	return b.bin, b.err
}

// cleanup removes the binary; only after every test is done.
func (b *onceBuild) cleanup() {
	if b.tmp != "" {
		_ = os.RemoveAll(b.tmp)
	}
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// nestedModuleEnv is the environment minus what would make the nested
// module build as part of another: a -mod flag meant for the main module
// (-mod=vendor has no vendor directory there) and a go.work.
func nestedModuleEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "GOWORK":
			continue
		case "GOFLAGS":
			var keep []string
			for _, f := range strings.Fields(v) {
				if !strings.HasPrefix(f, "-mod=") && !strings.HasPrefix(f, "--mod=") {
					keep = append(keep, f)
				}
			}
			kv = "GOFLAGS=" + strings.Join(keep, " ")
		}
		env = append(env, kv)
	}
	return append(env, "GOWORK=off")
}

// zitadelOP is a running example OP.
type zitadelOP struct {
	issuer string
	log    *syncBuffer // its request log: method and path of every request
}

// startZitadel builds and starts zitadel's example OP on a loopback port
// with one web client, {id}-client / {id}-secret, whose redirect URI is
// gatewayURL's callback for id and whose post-logout URI is its signed-out
// page; extra are more flags of interop/zitadel (the service client's).
// It stops with the test.
func startZitadel(t *testing.T, gatewayURL, id string, extra ...string) *zitadelOP {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts zitadel's example OP: not in the -short tier")
	}
	if _, err := exec.LookPath("go"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no go tool on PATH to build %s: %v", zitadelDir, err)
		}
		t.Skip("no go tool on PATH to build " + zitadelDir)
	}
	bin, err := zitadelBuild.get()
	if err != nil {
		t.Fatalf("go build in %s (5 min limit; downloads github.com/zitadel/oidc/v3 through the module proxy on a fresh machine): %v",
			zitadelDir, err)
	}
	args := append([]string{"-addr", "127.0.0.1:0",
		"-client-id", id + "-client", "-client-secret", id + "-secret",
		"-redirect-uri", gatewayURL + "/oauth2/callback/" + id,
		"-post-logout-redirect-uri", gatewayURL + "/oauth2/signed_out"}, extra...)
	cmd := exec.Command(bin, args...)
	op := &zitadelOP{log: &syncBuffer{}}
	cmd.Stderr = op.log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("zitadel example OP log:\n%s", op.log.String())
		}
	})
	// It prints "issuer <URL>" once it listens.
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			if iss, ok := strings.CutPrefix(s.Text(), "issuer "); ok {
				line <- iss
			}
		}
	}()
	select {
	case op.issuer = <-line:
	case <-exited:
		t.Fatalf("zitadel example OP exited before listening:\n%s", op.log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("zitadel example OP printed no issuer within 30 s:\n%s", op.log.String())
	}
	return op
}

// revokeWatch reports every revocation and its outcome. It embeds the
// concrete provider, not the interface, so that the logout methods the
// gateway looks for stay visible.
type revokeWatch struct {
	*providers.Provider
	done chan<- revoked
}

type revoked struct {
	tok providers.Tokens
	err error
}

func (w *revokeWatch) Revoke(ctx context.Context, t providers.Tokens) error {
	err := w.Provider.Revoke(ctx, t)
	w.done <- revoked{t, err}
	return err
}

// zitadelUserinfo is the status of zitadel's userinfo for an access token.
func zitadelUserinfo(t *testing.T, op *zitadelOP, accessToken string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, op.issuer+"userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("zitadel userinfo: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// zitadelGateway starts zitadel's example OP and a gateway (cfg) with one
// more instance, in, made "zitadel" of kind oidc, configured by zitadel's
// issuer alone: endpoints, PKCE and client authentication from discovery.
func zitadelGateway(t *testing.T, cfg gatewayConfig, in instance) (*gateway, *zitadelOP) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts zitadel's example OP: not in the -short tier")
	}
	// The gateway's port first: zitadel must know the callback URL.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	op := startZitadel(t, "http://"+ln.Addr().String(), "zitadel")
	in.id, in.kind, in.issuer = "zitadel", "oidc", op.issuer
	cfg.listener = ln
	cfg.instances = append(cfg.instances, in)
	return newGateway(t, cfg), op
}

// The example OP's login page: a username/password form with the auth
// request's id in a hidden field.
var (
	formActionRE = regexp.MustCompile(`<form method="POST" action="([^"]+)"`)
	hiddenIDRE   = regexp.MustCompile(`<input type="hidden" name="id" value="([^"]+)">`)
)

// zitadelLogin signs b in through zitadel as username (password
// "verysecure"), starting at /oauth2/start/zitadel?rd=rd, and returns what
// the authorization request said, the code zitadel sent back and the
// page the browser landed on.
func zitadelLogin(t *testing.T, g *gateway, op *zitadelOP, b *browser, username, rd string) (authz url.Values, code string, landed *http.Response, body string) {
	t.Helper()
	resp, page := b.get(g.URL + "/oauth2/start/zitadel?" + url.Values{"rd": {rd}}.Encode())
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(b.hops[len(b.hops)-1], op.issuer+"login/username?") {
		t.Fatalf("start: %d at %s, want zitadel's login page (hops %v)", resp.StatusCode, b.hops[len(b.hops)-1], b.hops)
	}
	for _, h := range b.hops {
		if u, _ := url.Parse(h); u != nil && strings.HasPrefix(h, op.issuer+"auth?") {
			authz = u.Query()
		}
	}
	action, id := formActionRE.FindStringSubmatch(page), hiddenIDRE.FindStringSubmatch(page)
	if action == nil || id == nil {
		t.Fatalf("no login form on zitadel's page:\n%s", page)
	}
	target, err := resp.Request.URL.Parse(action[1])
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"id": {id[1]}, "username": {username}, "password": {"verysecure"}}
	post := b.do(http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	post.Body.Close()
	if post.StatusCode != http.StatusFound {
		t.Fatalf("login form: %d, want 302 (wrong credentials re-render the form)", post.StatusCode)
	}
	next, _ := target.Parse(post.Header.Get("Location"))
	landed, body = b.get(next.String())
	if landed.StatusCode != http.StatusOK {
		t.Fatalf("after zitadel's login: %d at %s (hops %v)\ngateway log:\n%s", landed.StatusCode,
			b.hops[len(b.hops)-1], b.hops, g.logs.String())
	}
	for _, h := range b.hops {
		if strings.HasPrefix(h, g.URL+"/oauth2/callback/zitadel?") {
			u, _ := url.Parse(h)
			code = u.Query().Get("code")
		}
	}
	if code == "" {
		t.Errorf("no callback with a code among the hops %v", b.hops)
	}
	return authz, code, landed, body
}
