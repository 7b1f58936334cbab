package events

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Review 6, finding 1: pulling paused by a Redis outage while the pull loop
// had no iterator (here: looking a vanished consumer up again, as after a
// NATS blip that came with the Redis one) is never applied to the iterator
// opened next. drainForOutage found no iterator to drain, waitPulling had
// already been passed, so consume runs a live iterator while paused: every
// message it takes is handed back with a Nak at once, redelivered at once to
// the same iterator, and so on for the whole outage (a hot redelivery loop
// that also inflates NumDelivered toward BusyMaxDeliver).
func TestReview6PauseWithoutIteratorStillStopsPulling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	w := newOutageWorld(t)
	r := e.start(allKinds(w), withOutages(w.o), func(c *Consumer) {
		c.pullExpiry = 2 * time.Second
		c.maxLookupDelay = 100 * time.Millisecond
	})
	require.Eventually(t, r.c.Running, 5*time.Second, 10*time.Millisecond)

	// The consumer vanishes: the pull loop is in lookup, with no iterator.
	require.NoError(t, e.nats.JS.DeleteConsumer(ctxT(t), e.cfg.Stream, e.cfg.Consumer))
	require.Eventually(t, func() bool {
		return len(r.logs.FilterMessage("Durable consumer unavailable, retrying").AllUntimed()) > 0
	}, 10*time.Second, 10*time.Millisecond)

	// Redis goes down meanwhile: a handler's dependency error pauses it.
	w.redis.down.Store(true)
	held := w.o.Judge(context.Background(), Unavailable(DepRedis, errors.New("dial tcp: connection refused")))
	_, isHeld := errors.AsType[*OutageError](held)
	require.True(t, isHeld)
	require.Equal(t, []Dependency{DepRedis}, w.o.Paused())

	// The consumer comes back while Redis is still down.
	require.NoError(t, Provision(ctxT(t), e.nats.JS, e.cfg))
	e.publish("mcp.user.login", `{"userId":"u1"}`, nil)
	time.Sleep(1500 * time.Millisecond)

	info := e.consumerInfo()
	assert.LessOrEqual(t, info.Delivered.Consumer, uint64(2),
		"while Redis is paused the replica must not pull (deliveries: %d)", info.Delivered.Consumer)
	assert.False(t, r.c.Running(), "a paused replica is not running")
}

// Review 6, finding 2: deliveries held for an outage are "never counted",
// yet the busy budget (BusyMaxDeliver) is compared with the raw delivery
// count. After a long outage, the first BusyError (the usual thing when held
// logins of one user all come back at once and one of them takes the lock)
// dead-letters a valid login at once: "still busy after N deliveries".
func TestReview6HeldDeliveriesDoNotSpendTheBusyBudget(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Retry.BusyMaxDeliver = 5
	e := newEnv(t, cfg)
	w := newOutageWorld(t)
	w.mongo.down.Store(true)
	const outage = 6 // deliveries held while MongoDB is down
	rec := &recorder{fn: func(_ context.Context, ev Event) error {
		switch {
		case ev.Delivered < outage:
			if err := w.o.Check(DepMongoDB); err != nil {
				return err
			}
			return Unavailable(DepMongoDB, errors.New("server selection timeout"))
		case ev.Delivered == outage:
			w.mongo.down.Store(false) // MongoDB is back; another worker loads this user
			return Busy(10*time.Millisecond, "user lock held by another worker")
		}
		return nil
	}}
	e.start(allKinds(rec), withOutages(w.o))
	e.publish("mcp.user.login", `{"userId":"cold-1"}`, nil)

	require.Eventually(t, func() bool {
		calls := rec.seen()
		return len(calls) > outage || len(e.deadLetters()) > 0
	}, 30*time.Second, 10*time.Millisecond)
	assert.Empty(t, e.deadLetters(), "a login held for an outage, then busy once, is not dead-lettered")
	e.waitSettled()
}

// Review 6, finding 3: a call the gate refused while MongoDB was paused
// (ErrPaused: MongoDB was never asked) is judged after MongoDB resumed (the
// refusal and the resume race). It then counts as a failure of the event,
// spending its budget, and as a dependency error in a row: enough of them
// pause a healthy MongoDB again.
func TestReview6RefusedByTheGateIsAlwaysHeld(t *testing.T) {
	t.Parallel()
	redis, mongo := &fakeDep{}, &fakeDep{}
	o, _ := newTestOutages(t, redis, mongo)
	mongo.down.Store(true)
	_ = o.Judge(context.Background(), Unavailable(DepMongoDB, errors.New("server selection timeout")))
	require.Equal(t, []Dependency{DepMongoDB}, o.Paused())

	refused := o.Check(DepMongoDB) // a cold login refused at once
	require.ErrorIs(t, refused, ErrPaused)
	mongo.down.Store(false)
	waitResumed(t, o)

	for range testOutageConfig().Errors {
		err := o.Judge(context.Background(), refused)
		_, held := errors.AsType[*OutageError](err)
		assert.True(t, held, "refused while paused: held, not counted (got %v)", err)
	}
	assert.Empty(t, o.Paused(), "refusals from before the resume do not pause a healthy MongoDB")
}

// Review 6, finding 5: MongoDB down "holds only what needs it", but a held
// message is a NakWithDelay: it stays ack-pending on the durable consumer
// until redelivered. Once MaxAckPending messages are held (cold logins
// arriving during a MongoDB election at more than MaxAckPending per outage),
// JetStream delivers nothing more to any replica: warm logins and server
// events (revokes) stall until MongoDB is back, as if pulling were paused.
func TestReview6MongoOutageHeldMessagesDoNotStarveWarmOnes(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MaxAckPending = 8
	e := newEnv(t, cfg)
	w := newOutageWorld(t)
	// As `worker run` wires it: held messages are parked (parking.go).
	park := newMemParking()
	r := e.start(allKinds(w), withOutages(w.o), withParking(park))
	require.Eventually(t, r.c.Running, 5*time.Second, 10*time.Millisecond)

	w.mongo.down.Store(true)
	for i := range cfg.MaxAckPending {
		e.publish("mcp.user.login", `{"userId":"cold-`+string(rune('a'+i))+`"}`, nil)
	}
	require.Eventually(t, func() bool { return park.len(DepMongoDB)+e.consumerInfo().NumAckPending == cfg.MaxAckPending },
		10*time.Second, 10*time.Millisecond, "every cold login held or parked")
	e.publish("mcp.user.login", `{"userId":"warm-1"}`, nil)
	assert.Eventually(t, func() bool { return w.count("warm-1") == 1 }, 3*time.Second, 10*time.Millisecond,
		"a warm login during the MongoDB outage is applied")
}
