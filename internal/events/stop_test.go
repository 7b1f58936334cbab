package events

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// blocking is a handler that blocks until its context ends, and says when
// it started.
func blocking(started chan<- Event) HandlerFunc {
	return func(ctx context.Context, ev Event) error {
		started <- ev
		<-ctx.Done()
		return ctx.Err()
	}
}

func TestIntegrationStopNaksSlowHandlerAfterTimeout(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.AckWait = 30 * time.Second // a redelivery within the test can only come from a nak
	cfg.HandlerTimeout = 30 * time.Second
	cfg.Concurrency = 4
	e := newEnv(t, cfg)
	started := make(chan Event, 8)
	a := e.start(allKinds(blocking(started)))

	const n = 7
	for i := range n {
		e.publish("mcp.user.login", fmt.Sprintf(`{"userId":"u%d"}`, i), nil)
	}
	inFlight := map[uint64]bool{}
	for range cfg.Concurrency {
		inFlight[receive(t, started).StreamSeq] = true
	}
	// The iterator's second pull request buffers the other three while
	// every slot is busy: all seven are delivered, four started.
	require.Eventually(t, func() bool { return e.consumerInfo().NumAckPending == n }, 5*time.Second, 10*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	require.NoError(t, a.c.Stop(ctx))
	took := time.Since(begin)
	assert.GreaterOrEqual(t, took, 250*time.Millisecond, "in-flight handlers get until the deadline")
	assert.Less(t, took, 5*time.Second)
	assert.False(t, a.c.Running())
	lines := handledLines(a.logs)
	require.Len(t, lines, cfg.Concurrency, "one line per started message")
	for _, l := range lines {
		assert.Equal(t, OutcomeRetry, l.ContextMap()["outcome"])
		assert.Contains(t, l.ContextMap()["error"], "context canceled")
	}

	// A new replica gets all of them long before AckWait: the in-flight ones
	// (nak after cancel) and the buffered ones (nak at once).
	rec := &recorder{}
	e.start(allKinds(rec))
	calls := rec.waitCalls(t, n)
	e.waitSettled()
	assert.Less(t, time.Since(begin), 10*time.Second)
	bySeq := map[uint64]Event{}
	for _, c := range calls {
		bySeq[c.ev.StreamSeq] = c.ev
	}
	assert.Len(t, bySeq, n)
	for seq, ev := range bySeq {
		// Every one had been delivered to A once: started or buffered.
		assert.Equal(t, uint64(2), ev.Delivered, "stream seq %d", seq)
	}
	assert.Len(t, inFlight, cfg.Concurrency)
}

func TestIntegrationStopWaitsForInFlightHandlers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	rec := &recorder{fn: func(ctx context.Context, _ Event) error {
		started <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return errors.New("cancelled too early")
		}
	}}
	a := e.start(allKinds(rec))
	e.publish("mcp.user.login", `{"userId":"u1"}`, nil)
	receive(t, started)

	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- a.c.Stop(ctx)
	}()
	require.Eventually(t, func() bool { return !a.c.Running() }, 5*time.Second, 5*time.Millisecond)
	select {
	case <-stopped:
		t.Fatal("Stop returned while a handler was running")
	default:
	}
	close(release)
	require.NoError(t, receive(t, stopped))
	calls := rec.seen()
	require.Len(t, calls, 1)
	assert.NoError(t, calls[0].err)
	e.waitSettled()
}

// TestIntegrationStopLeavesNoGoroutine is not parallel: it compares the
// goroutines before Start and after Stop.
func TestIntegrationStopLeavesNoGoroutine(t *testing.T) {
	e := newEnv(t, testConfig())
	started := make(chan Event, 8)
	c, err := NewConsumer(ConsumerParams{JS: e.nats.JS, Config: e.cfg, Handlers: allKinds(blocking(started))})
	require.NoError(t, err)
	e.publish("mcp.user.login", `{"userId":"u0"}`, nil) // warm the connection's request machinery
	_, err = e.nats.JS.Consumer(ctxT(t), e.cfg.Stream, e.cfg.Consumer)
	require.NoError(t, err)
	before := goleak.IgnoreCurrent()

	require.NoError(t, c.Start(ctxT(t)))
	receive(t, started)
	e.publish("mcp.user.login", `{"userId":"u1"}`, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	require.NoError(t, c.Stop(ctx))
	require.NoError(t, c.Stop(ctx), "a second Stop is a no-op")
	goleak.VerifyNone(t, before)
}

func TestConsumerStartStopMisuse(t *testing.T) {
	t.Parallel()
	_, err := NewConsumer(ConsumerParams{Config: testConfig()})
	require.Error(t, err)
	bad := testConfig()
	bad.AckWait = 0
	e := newEnv(t, testConfig())
	_, err = NewConsumer(ConsumerParams{JS: e.nats.JS, Config: bad})
	require.ErrorContains(t, err, "ack wait")
	_, err = NewConsumer(ConsumerParams{JS: e.nats.JS, Config: testConfig(), Handlers: map[Kind]Handler{KindUserLogin: nil}})
	require.ErrorContains(t, err, "nil handler")

	c, err := NewConsumer(ConsumerParams{JS: e.nats.JS, Config: testConfig()})
	require.NoError(t, err)
	require.NoError(t, c.Stop(ctxT(t)), "Stop before Start")
	assert.False(t, c.Running())

	other := testConfig()
	other.Consumer = "missing"
	m, err := NewConsumer(ConsumerParams{JS: e.nats.JS, Config: other})
	require.NoError(t, err)
	require.ErrorContains(t, m.Start(ctxT(t)), "start consumer missing")

	require.NoError(t, c.Start(ctxT(t)))
	require.ErrorContains(t, c.Start(ctxT(t)), "already started")
	require.NoError(t, c.Stop(ctxT(t)))
}
