package registry_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/testenv"
)

// Review 9, finding: OOM is now "not serving writes", but MISCONF, the same
// server-wide refusal of every write (stop-writes-on-bgsave-error after a
// failed snapshot, or an AOF write error: a full or lost disk), is still the
// event's own failure. Every event that arrives while Redis cannot persist
// spends its budget and is dead-lettered, as OOM events were before this
// change, and the new probe's write check says MISCONF too (a paused Redis
// stays paused) while the flows' identical replies count.
func TestReview9UnreachableMisconf(t *testing.T) {
	t.Parallel()
	_, rdb := testenv.StartRedisServer(t)
	ctx := t.Context()
	dir := rdb.ConfigGet(ctx, "dir").Val()["dir"]
	require.NotEmpty(t, dir)
	// A snapshot schedule, then a snapshot that cannot be written (its
	// directory is gone: a lost volume).
	require.NoError(t, rdb.ConfigSet(ctx, "save", "3600 1").Err())
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, rdb.BgSave(ctx).Err())
	require.Eventually(t, func() bool {
		return strings.Contains(rdb.Info(ctx, "persistence").Val(), "rdb_last_bgsave_status:err")
	}, 10*time.Second, 20*time.Millisecond)

	err := rdb.Set(ctx, "mcp:x", "1", 0).Err()
	require.ErrorContains(t, err, "MISCONF")
	require.ErrorIs(t, rdb.Get(ctx, "mcp:x").Err(), redis.Nil, "reads are served")
	assert.True(t, registry.Unreachable(err), "Redis refuses every write until it can persist: %v", err)
}
