package bearer

import (
	"crypto"
	"sync"
	"time"
)

// entryOverhead approximates what one cached token costs besides its bytes
// (the map slot, the Token and its strings).
const entryOverhead = 512

// tokenCache keeps verified tokens by their exact bytes until they expire,
// so that a client sending the same token again costs a map lookup, not a
// signature check. It is bounded in bytes: when full, expired entries go
// first, then arbitrary ones (map order), which a flood of distinct valid
// tokens cannot turn into unbounded memory.
type tokenCache struct {
	max int

	mu    sync.RWMutex
	m     map[string]*Token
	bytes int
}

func newTokenCache(maxBytes int) *tokenCache {
	return &tokenCache{max: maxBytes, m: map[string]*Token{}}
}

// get returns the token cached for raw, if it is still unexpired at now.
func (c *tokenCache) get(raw string, now time.Time) *Token {
	if c.max <= 0 {
		return nil
	}
	c.mu.RLock()
	t := c.m[raw]
	c.mu.RUnlock()
	if t == nil || !now.Before(t.validUntil) {
		return nil
	}
	return t
}

func (c *tokenCache) put(raw string, t *Token, now time.Time) {
	size := len(raw) + entryOverhead
	if c.max <= 0 || size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[raw]; ok {
		return
	}
	if c.bytes+size > c.max {
		// Make room for a quarter of the budget at once, so that a full
		// cache is swept once per many inserts, not at every one.
		target := c.max - c.max/4 - size
		for k, e := range c.m {
			if !now.Before(e.validUntil) {
				c.remove(k)
			}
		}
		for k := range c.m {
			if c.bytes <= target {
				break
			}
			c.remove(k)
		}
	}
	c.m[raw] = t
	c.bytes += size
}

// remove drops k; c.mu is held.
func (c *tokenCache) remove(k string) {
	delete(c.m, k)
	c.bytes -= len(k) + entryOverhead
}

// dropRetired forgets the tokens of issuer signed by a key that is no
// longer in keys: an issuer that retires a key early may have reason to.
func (c *tokenCache) dropRetired(issuer string, keys []key) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, t := range c.m {
		if t.Issuer != issuer {
			continue
		}
		published := false
		for _, pk := range keys {
			if eq, ok := pk.pub.(interface{ Equal(crypto.PublicKey) bool }); ok && eq.Equal(t.key) {
				published = true
				break
			}
		}
		if !published {
			c.remove(k)
		}
	}
}
