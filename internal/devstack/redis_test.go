package devstack

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestIntegrationRedisTTLsExpire(t *testing.T) {
	t.Parallel()
	r, err := StartRedis("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(r.Close)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()

	require.NoError(t, rdb.Set(ctx, "short", "v", 0).Err())
	require.True(t, rdb.PExpire(ctx, "short", 300*time.Millisecond).Val())
	require.NoError(t, rdb.Set(ctx, "long", "v", 10*time.Second).Err())
	require.NoError(t, rdb.Set(ctx, "forever", "v", 0).Err())

	start := time.Now()
	require.Eventually(t, func() bool {
		return rdb.Exists(ctx, "short").Val() == 0
	}, time.Second, 20*time.Millisecond, "a key with PEXPIRE 300ms must disappear within 1s")
	// It must not vanish at once either: one tick early at most.
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond-redisTick)

	pttl := rdb.PTTL(ctx, "long").Val()
	assert.Less(t, pttl, 10*time.Second-100*time.Millisecond, "the clock moves: PTTL decreases")
	assert.Greater(t, pttl, 8*time.Second)
	assert.Equal(t, int64(1), rdb.Exists(ctx, "forever").Val())
	assert.Equal(t, "redis://"+r.Addr(), r.URL())
}

func TestIntegrationRedisCloseLeavesNoGoroutine(t *testing.T) {
	// Not parallel: goleak compares against the goroutines alive right now.
	ignore := goleak.IgnoreCurrent()
	r, err := StartRedis("127.0.0.1:0")
	require.NoError(t, err)
	addr := r.Addr()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	require.NoError(t, rdb.Ping(context.Background()).Err())
	require.NoError(t, rdb.Close())

	r.Close()
	r.Close() // idempotent
	goleak.VerifyNone(t, ignore)
	l, err := net.Listen("tcp", addr)
	require.NoError(t, err, "the port is free again after Close")
	require.NoError(t, l.Close())
}

func TestStartRedisBusyAddress(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	_, err = StartRedis(l.Addr().String())
	require.Error(t, err)
	assert.Contains(t, err.Error(), l.Addr().String())
}
