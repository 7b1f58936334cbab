package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/testenv"
)

// Review 6, finding 4: outage mode's Redis probe is a PING. A Redis that
// answers PING but refuses writes (READONLY: after a failover the client
// still talks to the demoted master, which registry.Unreachable itself names
// a "not serving now" dependency error) looks healthy to it: the first
// READONLY failure of an event runs the probe, the probe answers, the
// failure counts; after --outage-errors in a row Redis pauses, and the next
// PING resumes it. 4 of every 5 deliveries spend the budget: a valid event is
// dead-lettered within the retry schedule (about 3 minutes with the
// defaults), against hard case 28.
func TestReview6RedisProbeSeesAReadOnlyRedis(t *testing.T) {
	t.Parallel()
	_, rdb := testenv.StartRedisServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A demoted master: a replica of a master that is gone. It answers PING
	// and refuses every write with READONLY.
	require.NoError(t, rdb.Do(ctx, "REPLICAOF", "127.0.0.1", "1").Err())
	require.ErrorContains(t, rdb.Set(ctx, "mcp:x", "1", 0).Err(), "READONLY")

	probe := newWatches(Config{KeyPrefix: "mcp:"}, rdb, nil)[events.DepRedis].Probe
	require.Error(t, probe(ctx), "a Redis that refuses writes is down for every flow")
}
