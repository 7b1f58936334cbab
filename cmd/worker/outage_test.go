package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
)

// DESIGN hard case 28 (Redis): Redis is shut down for outageLength while
// logins and server events arrive. The worker pauses pulling, is not ready,
// never exits and dead-letters nothing, although --max-deliver 3 with
// 100ms/200ms delays gives up within a second without outage mode; once
// Redis is back (with its data, as after a failover) every event is applied.
func TestIntegrationRedisOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the worker binary through a Redis outage")
	}
	t.Parallel()
	r := newOutageRig(t, "outage-redis:")
	outage := outageLength(t)
	users := r.users(9)
	warm, cold := users[:3], users[3:]
	publishLogins(r.ctx, t, r.nats.JS, "before", warm)
	waitUntil(t, 60*time.Second, "warm users loaded", func() bool { return r.holdTool("https://outage-1", warm...) }, r.proc)

	r.redis.Shutdown(t)
	start := time.Now()
	v1 := time.Now().UnixMilli()
	publishLogins(r.ctx, t, r.nats.JS, "during-1", cold[:3])
	r.updateTool("https://outage-2", v1, true)
	r.waitReady(false, 30*time.Second)
	second := false
	r.during(start, outage, func(elapsed time.Duration) {
		if !second && elapsed >= outage/2 {
			second = true
			publishLogins(r.ctx, t, r.nats.JS, "during-2", cold[3:])
			publishLogins(r.ctx, t, r.nats.JS, "during-2", warm)
			r.updateTool("https://outage-3", v1+1000, true)
		}
		assert.False(t, r.ready(), "not ready while Redis is down (%s in)", elapsed.Round(time.Second))
	})
	require.True(t, second)
	assert.Equal(t, "1", r.metric(`mcp_worker_dependency_paused{dependency="redis"}`))

	r.redis.Start(t)
	waitUntil(t, 60*time.Second, "every login and update applied after Redis is back",
		func() bool { return r.holdTool("https://outage-3", users...) }, r.proc)
	r.finish(events.DepRedis)
}

// DESIGN hard case 28 (MongoDB): FerretDB is stopped for outageLength and
// started again on the same port and data. Cold logins arriving meanwhile
// are held (not dead-lettered), warm logins and server events keep being
// served, /readyz is false; once MongoDB is back the cold logins complete.
func TestIntegrationMongoOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the worker binary through a MongoDB outage")
	}
	t.Parallel()
	r := newOutageRig(t, "outage-mongo:")
	outage := outageLength(t)
	users := r.users(9)
	warm, cold := users[:3], users[3:]
	publishLogins(r.ctx, t, r.nats.JS, "before", warm)
	waitUntil(t, 60*time.Second, "warm users loaded", func() bool { return r.holdTool("https://outage-1", warm...) }, r.proc)

	r.mongo.Stop()
	start := time.Now()
	publishLogins(r.ctx, t, r.nats.JS, "during-1", cold[:3])
	r.waitReady(false, 30*time.Second)
	i, updated, second := 0, false, false
	r.during(start, outage, func(elapsed time.Duration) {
		assert.False(t, r.ready(), "not ready while MongoDB is down (%s in)", elapsed.Round(time.Second))
		// A warm login is served within seconds, during the whole outage.
		n := r.loginServed(warm[i%len(warm)], 10*time.Second)
		assert.Equal(t, events.OutcomeDone, n.Outcome, "warm login %s in", elapsed.Round(time.Second))
		i++
		if !updated {
			updated = true
			r.updateTool("https://outage-2", time.Now().UnixMilli(), false)
			waitUntil(t, 10*time.Second, "a server event is applied during the MongoDB outage",
				func() bool { return r.holdTool("https://outage-2", warm...) }, r.proc)
		}
		if !second && elapsed >= outage/2 {
			second = true
			publishLogins(r.ctx, t, r.nats.JS, "during-2", cold[3:])
		}
	})
	require.True(t, second)
	loaded, err := countLoaded(r.ctx, r.rdb, r.reg.Keys(), cold)
	require.NoError(t, err)
	assert.Zero(t, loaded, "no cold login could complete without MongoDB")
	assert.Equal(t, "1", r.metric(`mcp_worker_dependency_paused{dependency="mongodb"}`))
	assert.Equal(t, "0", r.metric(`mcp_worker_dependency_paused{dependency="redis"}`))

	r.mongo.Start(t)
	waitUntil(t, 60*time.Second, "the cold logins complete after MongoDB is back",
		func() bool { return r.holdTool("", cold...) }, r.proc)
	assert.True(t, r.holdTool("https://outage-2", users...), "one value per server: every holder sees the update")
	r.finish(events.DepMongoDB)
}
