package main

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/testenv"
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

// Review 9, finding: a full Redis (noeviction) does not stay a little under
// maxmemory once the worker resumes: keys expiring free a few bytes, the
// probe's write check passes, pulling resumes, and the first writes of the
// events handed back push Redis over maxmemory again. Those events fail with
// OOM within ProbeBase of the resume, which outage mode takes for "it
// answered a moment ago: this failure is the event's": each counts against
// the event's budget (up to --outage-errors - 1 per replica and resume),
// and the held events come back exactly then (held for about the probe
// interval). Over a long full-Redis episode that flaps this way, events are
// dead-lettered, which the change set out to prevent. A failure right after
// a resume must be judged by a probe, as the first one was.
func TestReview9OOMRightAfterAResumeSpendsTheBudget(t *testing.T) {
	t.Parallel()
	_, rdb := testenv.StartRedisServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := events.OutageConfig{Errors: 5, ProbeBase: 300 * time.Millisecond, ProbeMax: 300 * time.Millisecond, ProbeTimeout: time.Second}
	o, err := events.NewOutages(cfg, newWatches(Config{KeyPrefix: "mcp:"}, rdb, nil), nil, nil)
	require.NoError(t, err)
	t.Cleanup(o.Close)
	oom := func() error {
		err := rdb.Set(ctx, "mcp:x", "1", 0).Err()
		require.ErrorContains(t, err, "OOM")
		return events.Unavailable(events.DepRedis, err) // as handlers.classified wraps it
	}

	require.NoError(t, rdb.ConfigSet(ctx, "maxmemory", "1").Err())
	_, held := errors.AsType[*events.OutageError](o.Judge(ctx, oom()))
	require.True(t, held, "the first OOM pauses Redis")
	// Memory is freed: the probe passes and Redis resumes ...
	require.NoError(t, rdb.ConfigSet(ctx, "maxmemory", "0").Err())
	require.Eventually(t, func() bool { return len(o.Paused()) == 0 }, 5*time.Second, 5*time.Millisecond)
	// ... and the resumed events fill it again at once.
	require.NoError(t, rdb.ConfigSet(ctx, "maxmemory", "1").Err())
	got := o.Judge(ctx, oom())
	_, held = errors.AsType[*events.OutageError](got)
	assert.True(t, held, "an OOM right after the resume counts against the event: %v", got)
}
