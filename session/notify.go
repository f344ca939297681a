package session

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Invalidation messages, published when sessions end or change so that
// every replica's cache drops its copies: "s:{id}" one session, "u:{user}"
// every session of a user, "*" all. Session IDs already appear in key
// names, so publishing them shows a Redis reader nothing new.
const (
	invSession = "s"
	invUser    = "u"
	invAll     = "*"
)

// pingEvery is how often the subscription asks the server for a sign of
// life; with linkStaleAfter it bounds how long a dead link goes unseen.
const pingEvery = 250 * time.Millisecond

// resubscribeWait is the pause between attempts while Redis is away.
const resubscribeWait = 100 * time.Millisecond

// notifier carries invalidations between the replicas that share a store.
// *Redis implements it; a store local to one process needs none.
type notifier interface {
	publishInvalidation(ctx context.Context, msg string) error
	listenInvalidations(ctx context.Context, c invalidationSink)
}

// invalidationSink receives what the link carries: the cache, and the
// watchers of long-lived connections (fanout in watch.go).
type invalidationSink interface {
	invalidate(msg string)
	linkUp()
	linkDown()
	heardAt(sent int64)
	sinceBase(t time.Time) int64
	now() time.Time
}

// invalidationChannel is the pub/sub channel, under the key prefix so that
// two gateways sharing a Redis with different prefixes stay apart.
func (r *Redis) invalidationChannel() string { return r.prefix + "invalidate" }

// publishInvalidation sends msg to every subscribed replica.
func (r *Redis) publishInvalidation(ctx context.Context, msg string) error {
	if err := r.c.Publish(ctx, r.invalidationChannel(), msg).Err(); err != nil {
		return unavailable("publish invalidation", err)
	}
	return nil
}

// listenInvalidations feeds c from the channel until ctx ends. c answers
// only while the subscription is up and was heard from recently: on any
// error it is marked down at once, and after every (re)subscription it
// starts empty, since messages published meanwhile are lost.
//
// "Heard" is exact: every pingEvery a PING carries its send time, and its
// PONG, which Redis queues behind every message published before the PING
// arrived, moves c.heard to that time. So when the cache trusts itself at
// t, every invalidation published before t-linkStaleAfter has been applied,
// however late this goroutine was scheduled.
func (r *Redis) listenInvalidations(ctx context.Context, c invalidationSink) {
	ps := r.c.Subscribe(ctx, r.invalidationChannel())
	defer ps.Close()
	// The PING schedule is real time (a network heartbeat, whatever the
	// clock says); its payload is the cache's clock, on which staleness is
	// judged.
	var lastPing time.Time
	for ctx.Err() == nil {
		if time.Since(lastPing) >= pingEvery {
			lastPing = time.Now()
			// A failed write shows up as an error of the next receive.
			_ = ps.Ping(ctx, strconv.FormatInt(c.sinceBase(c.now()), 10))
		}
		msg, err := ps.ReceiveTimeout(ctx, pingEvery)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue // quiet channel; the next PING is due
			}
			c.linkDown()
			lastPing = time.Time{}
			// go-redis reconnects and resubscribes on the next receive.
			t := time.NewTimer(resubscribeWait)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				c.linkUp()
			}
		case *redis.Message:
			c.invalidate(m.Payload)
		case *redis.Pong:
			if sent, err := strconv.ParseInt(m.Payload, 10, 64); err == nil {
				c.heardAt(sent)
			}
		}
	}
}
