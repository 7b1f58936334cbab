package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlags(t *testing.T) {
	t.Parallel()
	t.Run("defaults stay off the machine's own servers", func(t *testing.T) {
		t.Parallel()
		c, err := parseFlags(nil, io.Discard)
		require.NoError(t, err)
		assert.Equal(t, config{
			worker: "bin/worker", natsAddr: "127.0.0.1:14222", redisAddr: "127.0.0.1:16379",
			mongoAddr: "127.0.0.1:27018", dataDir: ".devdata", reset: true,
			opsAddr: "127.0.0.1:19090", cacheTTL: "10m", database: "LibreChat",
		}, c)
	})
	t.Run("overrides", func(t *testing.T) {
		t.Parallel()
		c, err := parseFlags([]string{
			"--worker", "", "--nats-addr", "127.0.0.1:1", "--redis-addr", "127.0.0.1:2",
			"--mongo-addr", "127.0.0.1:3", "--data-dir", "/tmp/x", "--reset=false", "--ops-addr", "127.0.0.1:4",
			"--cache-ttl", "5s", "--database", "Demo",
		}, io.Discard)
		require.NoError(t, err)
		assert.Equal(t, config{
			natsAddr: "127.0.0.1:1", redisAddr: "127.0.0.1:2", mongoAddr: "127.0.0.1:3",
			dataDir: "/tmp/x", opsAddr: "127.0.0.1:4", cacheTTL: "5s", database: "Demo",
		}, c)
	})
	for name, args := range map[string][]string{
		"bad cache ttl":  {"--cache-ttl", "soon"},
		"positional arg": {"extra"},
		"unknown flag":   {"--nope"},
		"empty data dir": {"--data-dir", ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := parseFlags(args, io.Discard)
			assert.Error(t, err)
		})
	}
}

func TestWorkerEnv(t *testing.T) {
	t.Parallel()
	c, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"NATS_URL=nats://n", "REDIS_URL=redis://r", "MONGODB_URI=mongodb://m/",
		"MCP_WORKER_MONGODB_DATABASE=LibreChat", "MCP_WORKER_LOG_FORMAT=console",
		"MCP_WORKER_OPS_ADDR=127.0.0.1:19090", "MCP_WORKER_CACHE_TTL=10m",
		"MCP_WORKER_METRICS_POLL_EVERY=1s",
	}, c.workerEnv("nats://n", "redis://r", "mongodb://m/"))
}
