package ops_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mcp-registry/worker/internal/ops"
)

// /readyz is reachable by anyone who reaches the ops port: it names the
// failing checks, never their errors (hosts, users, TLS details); the
// errors go to the log.
func TestReadyzNamesFailuresWithoutDetails(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.InfoLevel)
	secretErr := errors.New("dial tcp 10.1.2.3:6379: WRONGPASS invalid username-password pair for user worker")
	s := ops.New(ops.Params{
		Ready: map[string]ops.Check{
			"nats":  pass,
			"redis": func(context.Context) error { return secretErr },
		},
		Logger: zap.New(core),
	})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.JSONEq(t, `{"nats":"ok","redis":"failing"}`, rec.Body.String())
	assert.NotContains(t, rec.Body.String(), "10.1.2.3")

	entries := logs.FilterMessage("Not ready").All()
	require.Len(t, entries, 1)
	assert.Equal(t, map[string]any{"redis": secretErr.Error()}, entries[0].ContextMap()["errors"])
}

// fakeClock is a settable clock for the readiness cache.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Probes do not ping the dependencies on every request: a result is reused
// for ReadyCache (1 s by default), also by concurrent requests.
func TestReadyzCachesResults(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	counting := func(context.Context) error { calls.Add(1); return nil }
	clock := &fakeClock{now: time.Unix(1000, 0)}
	s := ops.New(ops.Params{Ready: map[string]ops.Check{"redis": counting}, Clock: clock.Now})

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			assert.Equal(t, http.StatusOK, rec.Code)
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), calls.Load(), "one run for 20 requests within the second")

	clock.Add(999 * time.Millisecond)
	getReady(t, s)
	assert.Equal(t, int64(1), calls.Load())
	clock.Add(2 * time.Millisecond)
	getReady(t, s)
	assert.Equal(t, int64(2), calls.Load(), "run again once the result is older than 1s")
	assert.Equal(t, time.Second, ops.DefaultReadyCache)
}
