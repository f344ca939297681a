package session

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis deployments, as RedisOptions describes them.
const (
	standalone = "standalone" // one address
	sentinel   = "sentinel"   // MasterName set; Addrs are the sentinels
	cluster    = "cluster"    // several addresses, no MasterName
)

// topology reports the deployment o describes, by the rule in RedisOptions
// (which is also redis.NewUniversalClient's rule).
func (o RedisOptions) topology() string {
	switch {
	case o.MasterName != "":
		return sentinel
	case len(o.Addrs) > 1:
		return cluster
	default:
		return standalone
	}
}

// universalOptions checks o and turns it into go-redis options, from which
// redis.NewUniversalClient builds a plain, failover (Sentinel) or cluster
// client by the same rule as topology.
func universalOptions(o RedisOptions) (*redis.UniversalOptions, error) {
	if len(o.Addrs) == 0 {
		return nil, errors.New("no addresses")
	}
	for _, a := range o.Addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("address %q: want host:port", a)
		}
	}
	top := o.topology()
	if top == cluster && o.DB != 0 {
		return nil, errors.New("db: Redis Cluster has only database 0")
	}
	if top != sentinel && (o.SentinelUsername != "" || o.SentinelPassword != "") {
		return nil, errors.New("sentinel credentials without a master name")
	}
	return &redis.UniversalOptions{
		Addrs:            o.Addrs,
		MasterName:       o.MasterName,
		Username:         o.Username,
		Password:         o.Password,
		SentinelUsername: o.SentinelUsername,
		SentinelPassword: o.SentinelPassword,
		DB:               o.DB,
		// go-redis uses it for the sentinels too, and for every cluster
		// node it discovers.
		TLSConfig:    o.TLS,
		PoolSize:     o.PoolSize,
		DialTimeout:  cmp.Or(o.DialTimeout, 2*time.Second),
		ReadTimeout:  cmp.Or(o.ReadTimeout, time.Second),
		WriteTimeout: cmp.Or(o.WriteTimeout, time.Second),
		// Fail fast while Redis is down: the proxy answers 503 at once
		// rather than holding the request through rounds of redials. One
		// command retry still hides a pooled connection that went stale.
		//
		// This does not slow a failover down. On Sentinel every new
		// connection asks a sentinel for the master first, and go-redis
		// drops the old master's connections on +switch-master, so the
		// first dial after the promotion reaches the new master. (After
		// PoolSize failed dials the pool answers from its last error and
		// probes once a second, so recovery may lag the promotion by up
		// to a second.) On Cluster, MOVED and ASK are followed up to
		// MaxRedirects (zero: 3 times), independently of MaxRetries.
		DialerRetries: 1,
		MaxRetries:    1,
		// Callers' deadlines (the request's) cut a call short too.
		ContextTimeoutEnabled: true,
	}, nil
}
