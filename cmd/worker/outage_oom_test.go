package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/testenv"
)

// Redis full: with maxmemory reached and the noeviction policy the worker
// asks for, Redis answers reads and refuses every write ("OOM command not
// allowed"). That is the server not serving writes, as READONLY is, not the
// event's failure: the worker pauses pulling, is not ready, dead-letters
// nothing although --max-deliver 3 with 100ms/200ms delays gives up within a
// second, and applies every event once memory is available again (an
// operator raised maxmemory, or keys expired). A revoke or update arriving
// while Redis is full is applied afterwards, not lost in the dead letters.
func TestIntegrationRedisOutOfMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the worker binary through a full Redis")
	}
	t.Parallel()
	r := newOutageRig(t, "outage-oom:")
	users := r.users(6)
	warm, cold := users[:3], users[3:]
	publishLogins(r.ctx, t, r.nats.JS, "before", warm)
	waitUntil(t, 60*time.Second, "warm users loaded", func() bool { return r.holdTool("https://outage-1", warm...) }, r.proc)

	require.Equal(t, "noeviction", r.rdb.ConfigGet(r.ctx, "maxmemory-policy").Val()["maxmemory-policy"])
	require.NoError(t, r.rdb.ConfigSet(r.ctx, "maxmemory", "1").Err())
	require.ErrorContains(t, r.rdb.Set(r.ctx, "outage-oom:probe", "1", 0).Err(), "OOM")
	start := time.Now()
	v1 := time.Now().UnixMilli()
	publishLogins(r.ctx, t, r.nats.JS, "during", cold)
	r.updateTool("https://outage-oom", v1, true)
	r.waitReady(false, 30*time.Second)
	r.during(start, 6*time.Second, func(elapsed time.Duration) {
		assert.False(t, r.ready(), "not ready while Redis refuses writes (%s in)", elapsed.Round(time.Second))
	})
	assert.Equal(t, "1", r.metric(`mcp_worker_dependency_paused{dependency="redis"}`))

	require.NoError(t, r.rdb.ConfigSet(r.ctx, "maxmemory", "0").Err())
	waitUntil(t, 60*time.Second, "every login and the update applied once Redis has memory",
		func() bool { return r.holdTool("https://outage-oom", users...) }, r.proc)
	r.finish(events.DepRedis)
}

// The Redis probe sees a full Redis: PING and reads still answer, so a probe
// that only pinged would resume pulling at once and every event would fail
// again, spending its budget.
func TestRedisProbeSeesAFullRedis(t *testing.T) {
	t.Parallel()
	_, rdb := testenv.StartRedisServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	probe := newWatches(Config{KeyPrefix: "mcp:"}, rdb, nil)[events.DepRedis].Probe
	require.NoError(t, probe(ctx), "a Redis with memory serves")
	require.NoError(t, rdb.ConfigSet(ctx, "maxmemory", "1").Err())
	require.NoError(t, rdb.Ping(ctx).Err(), "a full Redis answers PING")
	err := probe(ctx)
	require.ErrorContains(t, err, "OOM", "a Redis that refuses writes is down for every flow")
	require.True(t, registry.Unreachable(err))
	require.NoError(t, rdb.ConfigSet(ctx, "maxmemory", "0").Err())
	require.NoError(t, probe(ctx), "and serves again once it has memory")
}
