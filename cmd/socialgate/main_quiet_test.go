package main

import (
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
)

// TestMain silences go-redis's own logger: the outage and failover tests
// make it print every failed dial, which buries the test output. What the
// tests assert comes back as errors, not log lines.
//
// With SOCIALGATE_TEST_MAIN=1 the test binary is socialgate itself: the
// signal tests (signals_test.go) run it as a child process and send it
// real SIGHUP and SIGTERM.
func TestMain(m *testing.M) {
	if os.Getenv("SOCIALGATE_TEST_MAIN") == "1" {
		main()
	}
	redis.SetLogger(&logging.VoidLogger{})
	os.Exit(m.Run())
}
