package proxy

import (
	"context"
	"net/http"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/socialgate/socialgate/bearer"
	"github.com/socialgate/socialgate/providers/providertest"
)

// BenchmarkServeHTTPBearer is one whole GET through the gateway on a route
// that takes both sessions and bearer tokens: with the session cookie (the
// memory store), with a bearer token the verifier has seen before (the
// cache: what a client reusing its token costs), and with the cache off
// (a full RS256 verification every time). Cookie and cached token should
// cost about the same; the uncached run shows the signature check.
func BenchmarkServeHTTPBearer(b *testing.B) {
	as, err := providertest.StartAuthServer(providertest.AuthServerOptions{
		Clients: []providertest.AuthClient{{ID: "bench-job", Secret: "s", Scopes: []string{"wiki.read"}}}, Audience: "wiki-api"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(as.Close)
	cc := clientcredentials.Config{ClientID: "bench-job", ClientSecret: "s", TokenURL: as.TokenURL()}
	tok, err := cc.Token(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	server := func(cacheBytes int) (*Server, *http.Request) {
		v, err := bearer.New(bearer.Options{Issuers: []bearer.Issuer{{Issuer: as.URL()}}, CacheBytes: cacheBytes})
		if err != nil {
			b.Fatal(err)
		}
		return newBenchServerWith(b, func(o *Options) {
			o.Bearer = v
			o.Routes[0].Bearer = []bearer.Audience{{Issuer: as.URL(), Audiences: []string{"wiki-api"}}}
		})
	}
	withToken := func(req *http.Request) *http.Request {
		r := req.Clone(context.Background())
		r.Header.Del("Cookie")
		r.Header.Set("Accept", "application/json")
		r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		return r
	}
	cached, cookieReq := server(0)
	uncached, req := server(-1)
	for _, bc := range []struct {
		name string
		srv  *Server
		req  *http.Request
	}{
		{"cookie", cached, cookieReq},
		{"bearer-cached", cached, withToken(cookieReq)},
		{"bearer-uncached", uncached, withToken(req)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.status = 0
				bc.srv.ServeHTTP(w, bc.req)
			}
			if w.status != http.StatusOK {
				b.Fatalf("status %d, want 200", w.status)
			}
		})
	}
}
