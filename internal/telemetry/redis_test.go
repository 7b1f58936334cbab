package telemetry

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/testenv"
)

// The hook labels a known script by name whether it ran as EVALSHA or (after
// NOSCRIPT) EVAL, another script as script:other, a command by its name and
// a pipeline by its first op; redis.Nil is no error; calls outside an event
// count under kind none.
func TestIntegrationRedisHookLabels(t *testing.T) {
	_, client := testenv.StartRedisServer(t) // its own server: a fresh script cache
	ctx := t.Context()
	known := redis.NewScript("return 1")
	other := redis.NewScript("return 2")
	reg := prometheus.NewPedanticRegistry()
	m := NewRedisMetrics(reg)
	client.AddHook(m.Hook(map[string]string{known.Hash(): "one"}, false))
	require.NoError(t, client.Ping(ctx).Err()) // the connection's handshake is done before counting
	trips0 := testutil.ToFloat64(m.roundTrips.WithLabelValues("none"))
	cmds0 := testutil.ToFloat64(m.commands.WithLabelValues("none"))

	require.NoError(t, known.Run(ctx, client, nil).Err()) // EVALSHA (NOSCRIPT), then EVAL
	require.NoError(t, known.Run(ctx, client, nil).Err()) // EVALSHA
	require.NoError(t, other.Run(ctx, client, nil).Err())
	require.ErrorIs(t, client.Get(ctx, "obs-test:missing").Err(), redis.Nil)
	_, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "obs-test:a")
		p.Get(ctx, "obs-test:b")
		return nil
	})
	require.ErrorIs(t, err, redis.Nil)

	count := func(op, status string) int {
		families, err := reg.Gather()
		require.NoError(t, err)
		for _, f := range families {
			for _, s := range f.GetMetric() {
				l := map[string]string{}
				for _, p := range s.GetLabel() {
					l[p.GetName()] = p.GetValue()
				}
				if f.GetName() == "mcp_worker_redis_seconds" && l["op"] == op && l["status"] == status {
					return int(s.GetHistogram().GetSampleCount())
				}
			}
		}
		return 0
	}
	assert.Equal(t, 1, count("script:one", "error"), "the NOSCRIPT EVALSHA")
	assert.Equal(t, 2, count("script:one", "ok"))
	assert.Equal(t, 1, count("script:other", "ok"))
	assert.Equal(t, 1, count("get", "ok"), "redis.Nil is a normal reply")
	assert.Equal(t, 1, count("pipeline:get", "ok"))
	// 7 round trips, 8 commands, plus a new connection's handshake (HELLO,
	// then CLIENT SETINFO pipelined) if the pool dialled one meanwhile.
	trips := testutil.ToFloat64(m.roundTrips.WithLabelValues("none")) - trips0
	cmds := testutil.ToFloat64(m.commands.WithLabelValues("none")) - cmds0
	assert.GreaterOrEqual(t, trips, 7.0)
	assert.GreaterOrEqual(t, cmds-trips, 1.0, "a pipeline's commands each count")
}
