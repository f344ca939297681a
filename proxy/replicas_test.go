package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/socialgate/socialgate/providers/providertest"
)

// roundRobin is a tiny load balancer: each request goes to the next
// backend in turn, with the Host header the browser sent, and it remembers
// which backend served which path.
type roundRobin struct {
	proxies []*httputil.ReverseProxy

	mu   sync.Mutex
	next int
	hits []lbHit
}

type lbHit struct {
	path    string
	backend int
}

func newRoundRobin(t *testing.T, backends ...string) *roundRobin {
	t.Helper()
	lb := &roundRobin{}
	for _, b := range backends {
		target, err := url.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		lb.proxies = append(lb.proxies, &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
		}})
	}
	return lb
}

func (lb *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lb.mu.Lock()
	i := lb.next
	lb.next = (lb.next + 1) % len(lb.proxies)
	lb.hits = append(lb.hits, lbHit{r.URL.Path, i})
	lb.mu.Unlock()
	lb.proxies[i].ServeHTTP(w, r)
}

// backendOf is the backend that served the last request for a path
// starting with prefix, or -1.
func (lb *roundRobin) backendOf(prefix string) int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for i := len(lb.hits) - 1; i >= 0; i-- {
		if strings.HasPrefix(lb.hits[i].path, prefix) {
			return lb.hits[i].backend
		}
	}
	return -1
}

// replicas are two gateways behind a round-robin load balancer, sharing one
// Redis, one cookie secret and the fake providers.
type replicas struct {
	lbURL string
	lb    *roundRobin
	a, b  *gateway
}

func newReplicas(t *testing.T, edits ...func(*gatewayConfig)) *replicas {
	t.Helper()
	rs := &replicas{}
	lbts := httptest.NewUnstartedServer(nil)
	rs.lbURL = "http://" + lbts.Listener.Addr().String()
	cfg := gatewayConfig{store: "redis", redisAddr: redisAddr(t), publicURL: rs.lbURL}
	for _, e := range edits {
		e(&cfg)
	}
	rs.a = newGateway(t, cfg)
	cfg.fakes, cfg.now = rs.a.fakes, rs.a.now
	rs.b = newGateway(t, cfg)
	rs.lb = newRoundRobin(t, rs.a.URL, rs.b.URL)
	lbts.Config.Handler = rs.lb
	lbts.Start()
	t.Cleanup(lbts.Close)
	return rs
}

// login signs b in through the load balancer and returns the upstream's echo.
func (rs *replicas) login(t *testing.T, b *browser, kind, userID, target string) echo {
	t.Helper()
	rs.a.fakes[kind].AutoApprove(userID)
	resp, _ := b.get(rs.lbURL + target)
	last, _ := url.Parse(b.hops[len(b.hops)-1])
	if resp.StatusCode != http.StatusOK || last.Path != "/oauth2/sign_in" {
		t.Fatalf("GET %s: %d at %s, want the sign-in page", target, resp.StatusCode, last)
	}
	start := rs.lbURL + "/oauth2/start/" + kind + "?" + url.Values{"rd": {last.Query().Get("rd")}}.Encode()
	resp, body := b.get(start)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login through the load balancer: %d after hops %v", resp.StatusCode, b.hops)
	}
	return decodeEcho(t, body)
}

func TestReplicasLoginAcrossInstances(t *testing.T) {
	rs := newReplicas(t)
	u := pickUser(t, "kakao", hangulWithEmail)
	b := newBrowser(t)
	e := rs.login(t, b, "kakao", u.ID, deepLink)

	started, landed := rs.lb.backendOf("/oauth2/start/"), rs.lb.backendOf("/oauth2/callback/")
	if started < 0 || landed < 0 || started == landed {
		t.Fatalf("login started on backend %d and its callback landed on %d; want two different instances", started, landed)
	}
	if final := b.hops[len(b.hops)-1]; final != rs.lbURL+deepLinkWire {
		t.Errorf("landed on %q, want %q", final, rs.lbURL+deepLinkWire)
	}
	if got := e.Header.Get("X-Forwarded-User"); got != "kakao:"+u.ID {
		t.Errorf("X-Forwarded-User = %q, want kakao:%s", got, u.ID)
	}
	if got, want := e.Header.Get("X-Forwarded-Preferred-Username"), url.PathEscape(expectedName("kakao", u)); got != want {
		t.Errorf("X-Forwarded-Preferred-Username = %q, want %q", got, want)
	}
	cookie := sessionCookie(t, b, rs.a)
	for _, g := range []*gateway{rs.a, rs.b} {
		if status := apiStatus(t, g.URL+"/oauth2/userinfo", cookie); status != http.StatusOK {
			t.Errorf("session on %s: %d, want 200 on every instance", g.URL, status)
		}
	}
}

func TestReplicasSignOutEverywhereAtOnce(t *testing.T) {
	rs := newReplicas(t)
	u := providertest.DefaultUsers("naver")[0]
	b := newBrowser(t)
	rs.login(t, b, "naver", u.ID, "/app/")
	cookie := sessionCookie(t, b, rs.a)

	// Sign out on A, directly.
	resp, body := b.get(rs.a.URL + "/oauth2/sign_out")
	m := csrfRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("sign-out page on A: %d, csrf found %t", resp.StatusCode, m != nil)
	}
	resp = b.do(http.MethodPost, rs.a.URL+"/oauth2/sign_out", strings.NewReader(url.Values{"csrf": {m[1]}}.Encode()))
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("sign out on A: %d, want 302", resp.StatusCode)
	}

	// B refuses the old cookie on the very next request.
	if status := apiStatus(t, rs.b.URL+"/oauth2/userinfo", cookie); status != http.StatusUnauthorized {
		t.Errorf("userinfo on B after sign-out on A: %d, want 401", status)
	}
	req, _ := http.NewRequest(http.MethodGet, rs.b.URL+"/app/x", nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Cookie", cookie)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r2, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	loc, _ := url.Parse(r2.Header.Get("Location"))
	if r2.StatusCode != http.StatusFound || loc.Path != "/oauth2/sign_in" {
		t.Errorf("browser on B after sign-out on A: %d → %q, want 302 to sign-in", r2.StatusCode, loc)
	}
}
