package session

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

// Watch lets a long-lived connection (a WebSocket authorised once, at its
// upgrade) end with its session, without asking the store per frame. The
// same invalidations that keep the session cache honest drive it: End,
// EndUser, EndAll and Update on any replica publish "s:{id}", "u:{user}" or
// "*", and every replica's watchers hear them over the store's pub/sub
// within milliseconds (locally at once with a store of this process). A
// timer on the session's own expiry covers the rest.
//
// An "s:{id}" is also published by Update (a token refresh): a watched
// session that is only updated must not end, so a message that names a
// single session is checked against the store (one round trip per
// invalidation, not per frame). "u:" and "*" mean the user's or everyone's
// sessions ended. Messages lost while the pub/sub link was down are made up
// for when it comes back: every watched session is checked once.

// watchRetry is how soon a check the store could not answer is tried again.
const watchRetry = time.Second

// Watch calls ended, once, when the session s ends: it is deleted
// (sign-out, revocation, back-channel logout) on this or another replica,
// or reaches its absolute or idle expiry. ended runs on an internal
// goroutine and must not block. stop ends the watch; it is safe to call
// more than once and after ended ran.
func (m *Manager) Watch(s *Session, ended func()) (stop func()) {
	m.listen()
	w := &watch{m: m, id: s.ID, user: s.User(), created: s.CreatedAt, lastSeen: s.LastSeen, ended: ended}
	m.watches.add(w)
	// The session may have ended between the caller's Get and now, its
	// message already gone by: look once, then only at messages and expiry.
	go w.check()
	return w.stop
}

// listen starts the subscription to the store's invalidations, once: at
// NewManager for the cache, or at the first Watch.
func (m *Manager) listen() {
	if m.notify == nil {
		return
	}
	m.listenOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		m.stop = cancel
		sink := &fanout{c: m.cache, w: &m.watches, clock: m.now, base: m.now()}
		m.done.Go(func() { m.notify.listenInvalidations(ctx, sink) })
	})
}

// fanout hands what the pub/sub link carries to the cache (when there is
// one) and to the watchers.
type fanout struct {
	c     *cache
	w     *watchers
	clock func() time.Time
	base  time.Time
}

func (f *fanout) now() time.Time { return f.clock() }

func (f *fanout) invalidate(msg string) {
	if f.c != nil {
		f.c.invalidate(msg)
	}
	f.w.invalidate(msg)
}

func (f *fanout) linkUp() {
	if f.c != nil {
		f.c.linkUp()
	}
	f.w.resync()
}

func (f *fanout) linkDown() {
	if f.c != nil {
		f.c.linkDown()
	}
}

func (f *fanout) heardAt(sent int64) {
	if f.c != nil {
		f.c.heardAt(sent)
	}
}

func (f *fanout) sinceBase(t time.Time) int64 {
	if f.c != nil {
		return f.c.sinceBase(t)
	}
	return int64(t.Sub(f.base))
}

// watchers are the Manager's watches, by session ID.
type watchers struct {
	mu   sync.Mutex
	byID map[string]map[*watch]struct{}
}

// watch is one Watch call.
type watch struct {
	m                 *Manager
	id, user          string
	created, lastSeen time.Time
	ended             func()

	mu    sync.Mutex
	timer *time.Timer
	done  bool
}

func (ws *watchers) add(w *watch) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.byID == nil {
		ws.byID = map[string]map[*watch]struct{}{}
	}
	set := ws.byID[w.id]
	if set == nil {
		set = map[*watch]struct{}{}
		ws.byID[w.id] = set
	}
	set[w] = struct{}{}
}

func (ws *watchers) remove(w *watch) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if set := ws.byID[w.id]; set != nil {
		delete(set, w)
		if len(set) == 0 {
			delete(ws.byID, w.id)
		}
	}
}

// matching returns the watches msg names (see the invalidation messages).
func (ws *watchers) matching(msg string) []*watch {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	var out []*watch
	kind, key, _ := strings.Cut(msg, ":")
	for id, set := range ws.byID {
		if kind == invSession && id != key {
			continue
		}
		for w := range set {
			if kind == invUser && w.user != key {
				continue
			}
			out = append(out, w)
		}
	}
	return out
}

// invalidate handles one invalidation message.
func (ws *watchers) invalidate(msg string) {
	kind, _, _ := strings.Cut(msg, ":")
	for _, w := range ws.matching(msg) {
		if kind == invSession {
			// Ended, or only updated: the store knows.
			go w.check()
		} else {
			w.fire()
		}
	}
}

// resync checks every watched session: invalidations may have been lost.
func (ws *watchers) resync() {
	for _, w := range ws.matching(invAll) {
		go w.check()
	}
}

// schedule arms the timer for the session's expiry as known now.
func (w *watch) schedule(now time.Time) {
	w.mu.Lock()
	end := w.created.Add(w.m.lifetime)
	if idle := w.lastSeen.Add(w.m.idle); idle.Before(end) {
		end = idle
	}
	w.mu.Unlock()
	w.after(end.Sub(now))
}

// after runs check in d.
func (w *watch) after(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	w.timer = time.AfterFunc(max(d, 0), w.check)
}

// check asks the store whether the session lives on (another replica may
// have moved its idle expiry, or an "s:" message was only an update), and
// ends the watch or re-arms it. A store that does not answer is asked
// again soon: ending every WebSocket at a Redis blip would be worse than
// the few seconds of grace, and nobody can sign out while it is down.
func (w *watch) check() {
	if w.isDone() {
		return
	}
	now := w.m.now()
	if !now.Before(w.created.Add(w.m.lifetime)) {
		w.fire()
		return
	}
	// The store, not Reload: a look is not a use, and must not touch the
	// session's idle clock.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	s, err := w.m.store.Load(ctx, w.id)
	cancel()
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && !w.m.live(s, now)):
		w.fire()
	case err != nil:
		w.after(watchRetry)
	default:
		w.mu.Lock()
		w.lastSeen = s.LastSeen
		w.mu.Unlock()
		w.schedule(now)
	}
}

func (w *watch) isDone() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done
}

// fire calls ended once and removes the watch.
func (w *watch) fire() {
	if w.finish() {
		w.ended()
	}
}

// stop removes the watch without calling ended.
func (w *watch) stop() { w.finish() }

// finish marks w done; it reports whether this call did.
func (w *watch) finish() bool {
	w.mu.Lock()
	if w.done {
		w.mu.Unlock()
		return false
	}
	w.done = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
	w.m.watches.remove(w)
	return true
}
