package lockstatus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/testenv"
)

// An acquisition, a contended try and a lost lock each move their metric.
func TestIntegrationLockMetrics(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	reg := prometheus.NewPedanticRegistry()
	cfg := lockstatus.Config{TTL: 300 * time.Millisecond, WaitTries: 3, RetryDelay: 20 * time.Millisecond}
	l := lockstatus.NewInstrumented(rdb, cfg, lockstatus.NewMetrics(reg))
	key := prefix + "{u:1}:lock"
	ctx := context.Background()

	err := l.WithLock(ctx, key, func(ctx context.Context, _ lockstatus.Fence) error {
		assert.ErrorIs(t, l.TryWithLock(ctx, key, func(context.Context, lockstatus.Fence) error { return nil }), lockstatus.ErrLocked)
		require.NoError(t, rdb.Set(context.Background(), key, "someone-else", time.Minute).Err())
		<-ctx.Done() // the keep-alive finds the lock lost
		return ctx.Err()
	})
	require.ErrorIs(t, err, lockstatus.ErrLockLost)

	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP mcp_worker_lock_acquisitions_total Distributed lock acquisitions, by outcome (acquired, contended, cancelled, error).
# TYPE mcp_worker_lock_acquisitions_total counter
mcp_worker_lock_acquisitions_total{outcome="acquired"} 1
mcp_worker_lock_acquisitions_total{outcome="contended"} 1
# HELP mcp_worker_locks_lost_total Distributed locks lost while held (keep-alive failed): the work was cancelled.
# TYPE mcp_worker_locks_lost_total counter
mcp_worker_locks_lost_total 1
`), "mcp_worker_lock_acquisitions_total", "mcp_worker_locks_lost_total"))
	assert.Equal(t, 2, testutil.CollectAndCount(reg, "mcp_worker_lock_wait_seconds", "mcp_worker_lock_held_seconds"))
}
