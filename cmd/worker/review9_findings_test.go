package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
)

// Review 9, finding: the Redis probe now runs EVAL "#!lua\nreturn 1" 0 and
// fails on any error, not only on a "not serving writes" reply. A
// Redis-protocol server that serves every flow but does not run that script
// (the dev stack's embedded server behind `make run`: "ERR Error compiling
// script ... near '#'"; a proxy that routes EVAL by its first key, which
// probeRedisNode names among the servers it supports) never passes the probe
// again: after the first Redis dependency error (one timeout) outage mode
// pauses Redis and stays paused, the replica pulls nothing and /readyz is 503
// for good, although Redis serves.
func TestReview9RedisProbeFailsForeverOnTheDevStackRedis(t *testing.T) {
	t.Parallel()
	srv, err := devstack.StartRedis("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, rdb.Set(ctx, "mcp:x", "1", 0).Err(), "the server takes writes")
	require.NoError(t, rdb.Eval(ctx, "return redis.call('SET', KEYS[1], '2')", []string{"mcp:x"}).Err(), "and runs the flows' scripts")

	cfg := events.OutageConfig{Errors: 5, ProbeBase: 20 * time.Millisecond, ProbeMax: 100 * time.Millisecond, ProbeTimeout: time.Second}
	o, err := events.NewOutages(cfg, newWatches(Config{KeyPrefix: "mcp:"}, rdb, nil), nil, nil)
	require.NoError(t, err)
	t.Cleanup(o.Close)

	// One connection reset while an event ran: the probe decides.
	o.Judge(ctx, events.Unavailable(events.DepRedis, io.ErrUnexpectedEOF))
	// Ten probe rounds later, Redis serving all along.
	time.Sleep(time.Second)
	assert.Empty(t, o.Paused(), "Redis serves every flow, yet outage mode keeps it paused: the probe fails on the shebang script")
}
