package session

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// cacheMaxEntries bounds the local cache. Past it the cache starts over
// rather than grow: a miss only costs one store round trip.
const cacheMaxEntries = 100_000

// linkStaleAfter is how long the cache keeps answering after it last heard
// from the invalidation channel. A revocation lost on a link that died
// silently is then honoured within this much time: under the one second
// that sign-out and revocation promise across replicas.
const linkStaleAfter = 750 * time.Millisecond

// cache keeps sessions this replica loaded recently, for up to ttl, so
// that most requests need no store round trip. It only answers while it
// can trust that it hears every invalidation: always for a store local to
// the process, and for a shared store only while its invalidation channel
// is subscribed and was heard from within linkStaleAfter.
//
// Every invalidation bumps gen; a load that started before an invalidation
// is not cached, so a session ended while it was being read never comes
// back from the cache.
type cache struct {
	ttl    time.Duration
	remote bool // invalidations arrive over a link that can fail
	// now is the Manager's clock. The link's staleness is measured on it
	// too: PINGs carry its reading, so a test that advances the clock past
	// linkStaleAfter sees the cache stop answering until a PING sent after
	// the advance has come back, exactly as a silent link would in real
	// time. Any clock that never goes backwards keeps the guarantee below.
	now func() time.Time

	mu        sync.RWMutex
	entries   map[string]cacheEntry
	gen       uint64
	lastSweep time.Time

	up    atomic.Bool  // the invalidation channel is subscribed
	heard atomic.Int64 // every message published before this was applied; ns since base
	base  time.Time    // for monotonic times that fit an int64
}

type cacheEntry struct {
	s   *Session // never modified once cached; callers get copies
	exp time.Time
}

func newCache(ttl time.Duration, remote bool, now func() time.Time) *cache {
	c := &cache{ttl: ttl, remote: remote, now: now, entries: make(map[string]cacheEntry), base: now()}
	c.up.Store(!remote)
	return c
}

// trusted reports whether the cache may answer now.
func (c *cache) trusted() bool {
	if !c.remote {
		return true
	}
	return c.up.Load() && time.Duration(c.sinceBase(c.now())-c.heard.Load()) < linkStaleAfter
}

// sinceBase is t in the cache's monotonic nanoseconds.
func (c *cache) sinceBase(t time.Time) int64 { return int64(t.Sub(c.base)) }

// get returns the cached session with id; the caller must not modify it.
func (c *cache) get(id string, now time.Time) (*Session, bool) {
	if !c.trusted() {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if !ok || !now.Before(e.exp) {
		return nil, false
	}
	return e.s, true
}

// generation is read before a store load and handed to put.
func (c *cache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put caches s (which the caller gives up) unless an invalidation came
// since gen was read.
func (c *cache) put(s *Session, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if now.Sub(c.lastSweep) >= c.ttl {
		c.lastSweep = now
		for id, e := range c.entries {
			if !now.Before(e.exp) {
				delete(c.entries, id)
			}
		}
	}
	if len(c.entries) >= cacheMaxEntries {
		clear(c.entries)
	}
	c.entries[s.ID] = cacheEntry{s: s, exp: now.Add(c.ttl)}
}

// touched records a LastSeen written to the store, keeping the entry's
// expiry.
func (c *cache) touched(id string, seen time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok {
		s := *e.s
		s.LastSeen = seen
		e.s = &s
		c.entries[id] = e
	}
}

// invalidate drops what msg names (see invalidation) and bumps gen.
func (c *cache) invalidate(msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	switch kind, key, _ := strings.Cut(msg, ":"); kind {
	case invSession:
		delete(c.entries, key)
	case invUser:
		for id, e := range c.entries {
			if userIs(e.s, key) {
				delete(c.entries, id)
			}
		}
	default: // invAll, or a message from a newer version: drop everything
		clear(c.entries)
	}
}

// userIs reports whether s.User() == user without building the string.
func userIs(s *Session, user string) bool {
	return len(user) == len(s.Provider)+1+len(s.Subject) &&
		strings.HasPrefix(user, s.Provider) && user[len(s.Provider)] == ':' &&
		strings.HasSuffix(user, s.Subject)
}

// linkUp marks the invalidation channel subscribed. Whatever was published
// while it was down is lost, so the cache starts empty. It answers again
// once a PING sent after this has come back (heardAt).
func (c *cache) linkUp() {
	c.invalidate(invAll)
	c.up.Store(true)
}

// linkDown stops the cache answering until linkUp.
func (c *cache) linkDown() { c.up.Store(false) }

// heardAt records that every message published before sent (ns since
// base) has been applied.
func (c *cache) heardAt(sent int64) {
	for {
		old := c.heard.Load()
		if sent <= old || c.heard.CompareAndSwap(old, sent) {
			return
		}
	}
}
