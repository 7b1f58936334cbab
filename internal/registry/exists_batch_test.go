package registry_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

// Concurrent Loaded questions share pipelines: every answer is right, and a
// burst takes fewer round trips than questions.
func TestIntegrationLoadedBatchesConcurrentQuestions(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	const users = 400
	for i := range users {
		if i%3 == 0 {
			loadUser(t, reg, c, fmt.Sprintf("b%03d", i))
		}
	}
	hook := &roundTrips{}
	c.AddHook(hook)

	var wg sync.WaitGroup
	got := make([]bool, users)
	errs := make([]error, users)
	start := make(chan struct{})
	for i := range users {
		wg.Go(func() {
			<-start
			got[i], errs[i] = reg.Loaded(t.Context(), fmt.Sprintf("b%03d", i))
		})
	}
	close(start)
	wg.Wait()
	for i := range users {
		require.NoError(t, errs[i])
		assert.Equal(t, i%3 == 0, got[i], "user %d", i)
	}
	assert.Less(t, hook.n.Load(), int64(users), "questions shared round trips")
	assert.Positive(t, hook.n.Load())
}

// A lone question is sent at once, as one EXISTS.
func TestIntegrationLoadedAloneIsOneCommand(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	loadUser(t, reg, c, "solo")
	hook := &roundTrips{}
	c.AddHook(hook)
	ok, err := reg.Loaded(t.Context(), "solo")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, int64(1), hook.n.Load())
}

// When Redis cannot answer, every waiting caller gets the error, none hangs,
// and a caller whose context ends stops waiting.
func TestIntegrationLoadedErrorsReachEveryCaller(t *testing.T) {
	t.Parallel()
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = dead.Close() })
	reg := registry.New(dead, registry.Config{KeyPrefix: "dead:", CacheTTL: time.Hour, PendingTTL: time.Minute})
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = reg.Loaded(t.Context(), fmt.Sprintf("u%d", i))
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.Error(t, err, "caller %d", i)
		assert.Contains(t, err.Error(), "loaded mark of")
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := reg.Loaded(ctx, "late")
	require.ErrorIs(t, err, context.Canceled)
}
