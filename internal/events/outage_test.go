package events

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeDep is a dependency whose probe answers as the test says.
type fakeDep struct {
	down   atomic.Bool
	probes atomic.Int64
	gate   chan struct{} // when set, a probe waits for it
}

func (f *fakeDep) probe(ctx context.Context) error {
	f.probes.Add(1)
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.down.Load() {
		return errors.New("connection refused")
	}
	return nil
}

func testOutageConfig() OutageConfig {
	return OutageConfig{Errors: 3, ProbeBase: 20 * time.Millisecond, ProbeMax: 80 * time.Millisecond, ProbeTimeout: time.Second}
}

func newTestOutages(t *testing.T, redis, mongo *fakeDep) (*Outages, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	o, err := NewOutages(testOutageConfig(), Watches{
		DepRedis:   {Probe: redis.probe, PausesPulling: true},
		DepMongoDB: {Probe: mongo.probe},
	}, nil, m)
	require.NoError(t, err)
	t.Cleanup(o.Close)
	return o, reg
}

func waitResumed(t *testing.T, o *Outages) {
	t.Helper()
	require.Eventually(t, func() bool { return len(o.Paused()) == 0 }, 5*time.Second, 5*time.Millisecond)
}

func TestOutagesPassThroughWhileHealthy(t *testing.T) {
	t.Parallel()
	o, _ := newTestOutages(t, &fakeDep{}, &fakeDep{})
	ctx := t.Context()
	for _, err := range []error{
		nil,
		Permanentf("bad"),
		Skipf("stale"),
		Busy(time.Second, "locked"),
		fmt.Errorf("%w: x", ErrShutdown),
		errors.New("script error"),
		Unavailable(DepRedis, errors.New("timeout")),    // the probe answers: the event's own failure
		Unavailable("elsewhere", errors.New("timeout")), // not watched
	} {
		assert.Equal(t, err, o.Judge(ctx, err))
	}
	assert.Empty(t, o.Paused())
	var nilOutages *Outages
	assert.Equal(t, Unavailable(DepRedis, errors.New("x")), nilOutages.Judge(ctx, Unavailable(DepRedis, errors.New("x"))))
	assert.NoError(t, nilOutages.Check(DepRedis))
	assert.True(t, nilOutages.waitPulling(nil))
}

func TestOutagesPauseOnFailedProbeAndResume(t *testing.T) {
	t.Parallel()
	redis, mongo := &fakeDep{}, &fakeDep{}
	o, m := newTestOutages(t, redis, mongo)
	var drained atomic.Int64
	o.onPullingPaused(func() { drained.Add(1) })
	ctx := t.Context()

	// MongoDB: held per dependency, pulling goes on.
	mongo.down.Store(true)
	dbErr := fmt.Errorf("login u1: %w", Unavailable(DepMongoDB, errors.New("server selection timeout")))
	got := o.Judge(ctx, dbErr)
	held, ok := errors.AsType[*OutageError](got)
	require.True(t, ok, "held: %v", got)
	assert.Equal(t, DepMongoDB, held.Dep)
	assert.ErrorIs(t, got, dbErr.(interface{ Unwrap() error }).Unwrap())
	assert.Positive(t, held.After)
	assert.LessOrEqual(t, held.After, testOutageConfig().ProbeMax)
	assert.Equal(t, []Dependency{DepMongoDB}, o.Paused())
	de, ok := errors.AsType[*DependencyError](o.Check(DepMongoDB))
	require.True(t, ok)
	assert.ErrorIs(t, de, ErrPaused)
	assert.NoError(t, o.Check(DepRedis))
	_, pulling := o.pullingPausedBy()
	assert.False(t, pulling, "MongoDB does not pause pulling")
	assert.Equal(t, errors.New("x"), o.Judge(ctx, errors.New("x")), "an unclassified failure counts while only MongoDB is down")
	assert.Zero(t, drained.Load())
	assert.Equal(t, 1.0, counterValue(t, m, "mcp_worker_dependency_paused", "dependency", "mongodb"))

	// Redis: pulling pauses; every transient failure is held.
	redis.down.Store(true)
	_, ok = errors.AsType[*OutageError](o.Judge(ctx, Unavailable(DepRedis, errors.New("connection refused"))))
	require.True(t, ok)
	assert.Equal(t, []Dependency{DepMongoDB, DepRedis}, o.Paused())
	assert.Equal(t, int64(1), drained.Load(), "the consumer was told to drain")
	held, ok = errors.AsType[*OutageError](o.Judge(ctx, errors.New("lock lost")))
	require.True(t, ok, "any transient failure while Redis is down is held")
	assert.Equal(t, DepRedis, held.Dep)
	assert.ErrorIs(t, o.Judge(ctx, Permanentf("bad")), ErrPermanent, "a bad event is still a bad event")

	waiting := make(chan bool)
	go func() { waiting <- o.waitPulling(nil) }()
	select {
	case <-waiting:
		t.Fatal("waitPulling returned while Redis is down")
	case <-time.After(50 * time.Millisecond):
	}
	redis.down.Store(false)
	select {
	case ok := <-waiting:
		assert.True(t, ok)
	case <-time.After(5 * time.Second):
		t.Fatal("waitPulling did not return after Redis came back")
	}
	assert.Equal(t, []Dependency{DepMongoDB}, o.Paused())
	mongo.down.Store(false)
	waitResumed(t, o)
	assert.NoError(t, o.Check(DepMongoDB))
	assert.Equal(t, 0.0, counterValue(t, m, "mcp_worker_dependency_paused", "dependency", "mongodb"))
	assert.Equal(t, 0.0, counterValue(t, m, "mcp_worker_dependency_paused", "dependency", "redis"))
}

func TestOutagesPauseAfterErrorsInARow(t *testing.T) {
	t.Parallel()
	redis := &fakeDep{} // answers its probe: a replica that PINGs but refuses writes
	o, _ := newTestOutages(t, redis, &fakeDep{})
	ctx := t.Context()
	readonly := Unavailable(DepRedis, errors.New("READONLY You can't write against a read only replica"))
	assert.Equal(t, readonly, o.Judge(ctx, readonly), "1st: counts")
	assert.Equal(t, readonly, o.Judge(ctx, readonly), "2nd: counts")
	assert.Nil(t, o.Judge(ctx, nil), "an event finished: the run starts again")
	assert.Equal(t, readonly, o.Judge(ctx, readonly))
	assert.Equal(t, readonly, o.Judge(ctx, readonly))
	_, ok := errors.AsType[*OutageError](o.Judge(ctx, readonly))
	require.True(t, ok, "the 3rd in a row pauses")
	assert.Equal(t, []Dependency{DepRedis}, o.Paused())
	waitResumed(t, o) // the probe answers: resumed by itself
	assert.Equal(t, readonly, o.Judge(ctx, readonly), "a new run after the resume")
}

func TestOutagesConcurrentFailuresShareOneProbe(t *testing.T) {
	t.Parallel()
	redis := &fakeDep{gate: make(chan struct{})}
	redis.down.Store(true)
	o, _ := newTestOutages(t, redis, &fakeDep{})
	o.cfg.Errors = 100 // only the probe can pause it here
	var wg sync.WaitGroup
	results := make(chan error, 8)
	for range 8 {
		wg.Go(func() { results <- o.Judge(t.Context(), Unavailable(DepRedis, errors.New("refused"))) })
	}
	time.Sleep(30 * time.Millisecond) // let them all wait on the probe
	close(redis.gate)
	wg.Wait()
	close(results)
	for err := range results {
		_, ok := errors.AsType[*OutageError](err)
		assert.True(t, ok, "held: %v", err)
	}
	// 8 failures, one immediate probe (plus, at most, the probe loop's first).
	assert.LessOrEqual(t, redis.probes.Load(), int64(2))
}

func TestOutagesProbeBackoffIsCapped(t *testing.T) {
	t.Parallel()
	redis := &fakeDep{}
	redis.down.Store(true)
	o, _ := newTestOutages(t, redis, &fakeDep{})
	o.Judge(t.Context(), Unavailable(DepRedis, errors.New("refused")))
	time.Sleep(500 * time.Millisecond)
	// 20, 40, 80, 80, ... ms jittered down by at most a quarter: between
	// 1 + 500/(20+40+80+...) and 1 + 500/(15+30+60+60...) probes.
	n := redis.probes.Load()
	assert.GreaterOrEqual(t, n, int64(5))
	assert.LessOrEqual(t, n, int64(12))
	o.mu.Lock()
	interval := o.deps[DepRedis].interval
	o.mu.Unlock()
	assert.Equal(t, testOutageConfig().ProbeMax, interval)
	o.Close() // stops the probe loop while still down
	assert.Equal(t, []Dependency{DepRedis}, o.Paused())
	assert.False(t, o.waitPulling(closedChan()), "stop wins while paused")
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

func TestOutageConfigValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, DefaultOutageConfig().Validate())
	bad := OutageConfig{Errors: 0, ProbeBase: 0, ProbeMax: -1, ProbeTimeout: 0}
	err := bad.Validate()
	require.Error(t, err)
	for _, want := range []string{"outage errors 0", "outage probe base 0s", "outage probe max -1ns", "outage probe timeout 0s"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = NewOutages(DefaultOutageConfig(), Watches{DepRedis: {}}, nil, nil)
	assert.ErrorContains(t, err, "no probe for redis")
}
