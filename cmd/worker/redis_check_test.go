package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mcp-registry/worker/internal/testenv"
)

func TestRequireVersion(t *testing.T) {
	t.Parallel()
	for v, ok := range map[string]bool{
		"7.0.15": true, "7.2.4": true, "8.0.0": true, "10.1": true,
		"6.2.14": false, "6.0": false, "5.0.7": false, "garbled": true,
	} {
		err := requireVersion(v)
		if ok {
			assert.NoError(t, err, v)
		} else {
			assert.ErrorContains(t, err, "older than 7.0", v)
		}
	}
}

// The machine's Redis (7.0) passes; a policy that may evict is warned about.
func TestIntegrationCheckRedisServer(t *testing.T) {
	t.Parallel()
	_, rdb := testenv.StartRedisServer(t)
	core, logs := observer.New(zap.DebugLevel)
	log := zap.New(core)
	ctx := context.Background()
	require.NoError(t, checkRedisServer(ctx, rdb, "redis", log))
	assert.Zero(t, logs.FilterMessageSnippet("evict").Len(), "noeviction is the default")
	require.NoError(t, rdb.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err())
	require.NoError(t, checkRedisServer(ctx, rdb, "redis", log))
	assert.Equal(t, 1, logs.FilterMessageSnippet("evict").Len())
}
