package lockstatus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/testenv"
)

func newLocker(t *testing.T, ttl time.Duration) (*lockstatus.Locker, *redis.Client, string) {
	t.Helper()
	rdb, prefix := testenv.Redis(t)
	cfg := lockstatus.Config{TTL: ttl, WaitTries: 3, RetryDelay: 20 * time.Millisecond}
	require.NoError(t, cfg.Validate())
	return lockstatus.New(rdb, cfg), rdb, prefix + "{u:1}:lock"
}

func TestIntegrationWithLockRunsAndReleases(t *testing.T) {
	t.Parallel()
	l, rdb, key := newLocker(t, time.Second)
	ctx := context.Background()
	var seen lockstatus.Fence
	err := l.WithLock(ctx, key, func(ctx context.Context, f lockstatus.Fence) error {
		seen = f
		v, err := rdb.Get(ctx, key).Result()
		require.NoError(t, err)
		assert.Equal(t, f.Token, v, "the fence token is the lock value")
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, key, seen.Key)
	assert.NotEmpty(t, seen.Token)
	assert.Equal(t, int64(0), rdb.Exists(ctx, key).Val(), "released")
}

func TestIntegrationTryWithLockWhenHeld(t *testing.T) {
	t.Parallel()
	l, _, key := newLocker(t, time.Second)
	ctx := context.Background()
	err := l.WithLock(ctx, key, func(ctx context.Context, _ lockstatus.Fence) error {
		inner := l.TryWithLock(ctx, key, func(context.Context, lockstatus.Fence) error {
			t.Error("second holder ran")
			return nil
		})
		assert.ErrorIs(t, inner, lockstatus.ErrLocked)
		return nil
	})
	require.NoError(t, err)
}

func TestIntegrationKeepAliveOutlivesTTL(t *testing.T) {
	t.Parallel()
	l, rdb, key := newLocker(t, 300*time.Millisecond)
	ctx := context.Background()
	err := l.WithLock(ctx, key, func(ctx context.Context, f lockstatus.Fence) error {
		deadline := time.Now().Add(time.Second) // more than three TTLs
		for time.Now().Before(deadline) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			require.Equal(t, f.Token, rdb.Get(context.Background(), key).Val(), "lock kept")
			time.Sleep(50 * time.Millisecond)
		}
		return nil
	})
	require.NoError(t, err)
}

func TestIntegrationLostLockCancelsWork(t *testing.T) {
	t.Parallel()
	l, rdb, key := newLocker(t, 300*time.Millisecond)
	ctx := context.Background()
	err := l.WithLock(ctx, key, func(ctx context.Context, _ lockstatus.Fence) error {
		// Another owner takes over (as after an expiry or a failover).
		require.NoError(t, rdb.Set(context.Background(), key, "someone-else", time.Minute).Err())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
			return errors.New("work context was not cancelled")
		}
	})
	require.ErrorIs(t, err, lockstatus.ErrLockLost)
	assert.Equal(t, "someone-else", rdb.Get(ctx, key).Val(), "the other owner's lock is not released")
}

func TestIntegrationRedisDownIsNotLocked(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer rdb.Close()
	l := lockstatus.New(rdb, lockstatus.Config{TTL: time.Second, WaitTries: 1, RetryDelay: 10 * time.Millisecond})
	err := l.WithLock(context.Background(), "k", func(context.Context, lockstatus.Fence) error { return nil })
	require.Error(t, err)
	assert.NotErrorIs(t, err, lockstatus.ErrLocked)
}
