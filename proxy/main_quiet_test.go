package proxy_test

import (
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
)

// TestMain silences go-redis's own logger: the outage and failover tests
// make it print every failed dial, which buries the test output. What the
// tests assert comes back as errors, not log lines. Afterwards it removes
// the interop program the zitadel tests built.
func TestMain(m *testing.M) {
	redis.SetLogger(&logging.VoidLogger{})
	code := m.Run()
	zitadelBuild.cleanup()
	os.Exit(code)
}
