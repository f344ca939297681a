package bearer

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTokenCacheBounded: the cache never holds more than its byte budget,
// drops expired tokens first, and answers nothing past a token's validity.
func TestTokenCacheBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newTokenCache(64 << 10)
	raw := func(i int) string { return strconv.Itoa(i) + strings.Repeat("x", 1000) }
	for i := range 1000 {
		valid := now.Add(time.Hour)
		if i%2 == 0 {
			valid = now.Add(time.Second) // half of them expire soon
		}
		c.put(raw(i), &Token{ClientID: "c", validUntil: valid}, now)
		if c.bytes > c.max {
			t.Fatalf("after %d inserts: %d bytes > budget %d", i+1, c.bytes, c.max)
		}
	}
	if got := c.get(raw(999), now); got == nil {
		t.Error("the last token inserted is gone")
	}
	later := now.Add(2 * time.Second)
	c.put(raw(999), &Token{validUntil: now.Add(time.Hour)}, later)
	for i := 0; i < 1000; i += 2 {
		if c.get(raw(i), later) != nil {
			t.Fatalf("token %d answered past its validity", i)
		}
	}
	sum := 0
	for k := range c.m {
		sum += len(k) + entryOverhead
	}
	if sum != c.bytes {
		t.Errorf("accounted %d bytes, holds %d", c.bytes, sum)
	}
	if off := newTokenCache(-1); off.get("x", now) != nil {
		t.Error("a disabled cache answered")
	}
}
