package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socialgate/socialgate/config"
	"github.com/socialgate/socialgate/session"
	"github.com/socialgate/socialgate/session/redistest"
)

// TestRedisTLS runs the configured Redis store over TLS against a real
// redis-server, with the CA from session.redis.tls.ca_file, and checks that
// an untrusted certificate is refused unless insecure_skip_verify is set.
func TestRedisTLS(t *testing.T) {
	srv := redistest.StartTLS(t)
	t.Setenv("TEST_SECRET", strings.Repeat("t", 40))
	for _, tc := range []struct {
		name, tls string
		wantOK    bool
	}{
		{"trusted ca_file", fmt.Sprintf("{ enabled: true, ca_file: %q }", srv.CAFile), true},
		{"system roots only", "{ enabled: true }", false},
		{"insecure_skip_verify", "{ enabled: true, insecure_skip_verify: true }", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sg.yaml")
			yaml := fmt.Sprintf(`server: { public_url: "http://127.0.0.1:4180" }
cookie: { secret: "${TEST_SECRET}" }
session:
  store: redis
  redis:
    addrs: [%q]
    tls: %s
providers:
  kakao: { client_id: k }
upstreams:
  - { name: app, url: "http://127.0.0.1:9" }
`, srv.TLSAddr, tc.tls)
			if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatalf("config: %v", err)
			}
			store, err := newStore(cfg)
			if err != nil {
				t.Fatalf("newStore: %v", err)
			}
			defer store.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s := &session.Session{ID: strings.Repeat("A", 43), Provider: "kakao", Subject: "1", Name: "홍길동",
				CreatedAt: time.Now(), LastSeen: time.Now()}
			err = store.Save(ctx, s, time.Minute)
			if !tc.wantOK {
				if !errors.Is(err, session.ErrUnavailable) {
					t.Fatalf("Save over TLS with an untrusted certificate: err = %v, want ErrUnavailable", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Save over TLS: %v", err)
			}
			got, err := store.Load(ctx, s.ID)
			if err != nil || got.Name != "홍길동" {
				t.Fatalf("Load over TLS = %+v, %v", got, err)
			}
		})
	}
}
