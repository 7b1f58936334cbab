package events

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Review 9, finding: a pull buffer of 2 x --concurrency lets a fetched
// message wait behind a whole round of handlers with its AckWait running and
// no InProgress (the keeper tracks running handlers only, from their start).
// With handlers taking 0.75 x AckWait (well inside --handler-timeout, which
// defaults to AckWait), the buffered messages' AckWait runs out before their
// first InProgress: JetStream redelivers them while they wait or run, they
// are handled twice and their delivery count grows (budget spent, and with
// several replicas the copies land in other buffers, where the same happens).
// With a buffer of --concurrency, messages fetched while every slot is busy
// start as soon as a slot frees, and none is redelivered.
func TestReview9BufferedMessagesOutwaitTheirAckWait(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Concurrency = 2
	cfg.AckWait = 1500 * time.Millisecond
	cfg.HandlerTimeout = 10 * time.Second
	e := newEnv(t, cfg)
	rec := &recorder{fn: func(ctx context.Context, _ Event) error {
		select {
		case <-time.After(1100 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	e.start(allKinds(rec))

	const n = 6
	for i := range n {
		e.publish("mcp.user.login", fmt.Sprintf(`{"userId":"u%d"}`, i), nil)
	}
	rec.waitCalls(t, n)
	info := e.waitSettled()
	time.Sleep(2 * time.Second) // a copy fetched again is handled after the original's ack
	times := map[uint64]int{}
	for _, c := range rec.seen() {
		times[c.ev.StreamSeq]++
		assert.Equal(t, uint64(1), c.ev.Delivered, "stream seq %d delivered again while it waited in the buffer", c.ev.StreamSeq)
	}
	assert.Len(t, times, n)
	for seq, k := range times {
		assert.Equal(t, 1, k, "stream seq %d handled %d times", seq, k)
	}
	assert.Equal(t, uint64(n), info.Delivered.Consumer, "each message delivered once")
	assert.Zero(t, info.NumRedelivered)
}

// Review 9, finding: the docs (events.md, deploy/README.md, config help) say
// a replica holds at most 2 x --concurrency unacknowledged messages, "running
// and fetched together", and size MaxAckPending as replicas x 2 x
// concurrency. The client's buffer (PullMaxMessages) does not count the
// running ones: nats.go refills it to 2 x concurrency while concurrency
// handlers run, so a replica holds up to 3 x concurrency - 1. With the
// documented minimum, the last replicas get less than their concurrency, or
// nothing (4 replicas of 4: 3 x 11 = 33 > 32).
func TestReview9ReplicaHoldsMoreThanDocumented(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Concurrency = 4
	cfg.AckWait = 30 * time.Second
	cfg.HandlerTimeout = 30 * time.Second
	e := newEnv(t, cfg)
	started := make(chan Event, 64)
	release := make(chan struct{}, 64)
	e.start(allKinds(HandlerFunc(func(ctx context.Context, ev Event) error {
		started <- ev
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})))
	for i := range 40 {
		e.publish("mcp.user.login", fmt.Sprintf(`{"userId":"u%d"}`, i), nil)
	}
	for range cfg.Concurrency {
		receive(t, started)
	}
	// Two handlers finish, two more start: every slot busy again.
	for range 2 {
		release <- struct{}{}
		receive(t, started)
	}
	time.Sleep(500 * time.Millisecond) // the refill's messages arrive
	held := e.consumerInfo().NumAckPending
	t.Logf("unacknowledged with %d handlers running: %d", cfg.Concurrency, held)
	assert.LessOrEqual(t, held, 2*cfg.Concurrency, "documented: at most 2 x concurrency per replica, running and fetched together")
	close(release)
}
