package events

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Review 7, finding 1: one parked event that can never be published back
// blocks every entry behind it (head of line). A cold login whose message is
// at the server's max payload is valid (unknown fields are ignored, the
// payload is within --max-payload) and is parked; published back it carries
// a longer Nats-Msg-Id and a Nats-Expected-Stream header, is over the max
// payload, and unpark stops the batch at it, every second, forever: no
// parked event behind it is ever applied.
func TestReview7OversizedParkedEntryBlocksTheOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	w := newOutageWorld(t)
	park := newMemParking()
	r := e.start(allKinds(w), withOutages(w.o), withParking(park))
	require.Eventually(t, r.c.Running, 5*time.Second, 10*time.Millisecond)

	w.mongo.down.Store(true)
	max := int(e.nats.Conn.MaxPayload())
	head := `{"userId":"cold-big","pad":"`
	big := head + strings.Repeat("x", max-len(head)-2) + `"}`
	require.Len(t, big, max)
	e.publish("mcp.user.login", big, nil)
	require.Eventually(t, func() bool {
		ci := e.consumerInfo()
		return park.len(DepMongoDB) == 1 && ci.NumAckPending == 0 || ci.NumRedelivered > 0
	}, 10*time.Second, 10*time.Millisecond, "the oversized cold login parked (or held) first")
	e.publish("mcp.user.login", `{"userId":"cold-small"}`, nil)
	require.Eventually(t, func() bool {
		return park.len(DepMongoDB) >= 1 && park.len(DepMongoDB)+e.consumerInfo().NumAckPending == 2
	},
		10*time.Second, 10*time.Millisecond, "both cold logins parked (or held)")

	w.mongo.down.Store(false)
	assert.Eventually(t, func() bool { return w.count("cold-small") == 1 }, 10*time.Second, 20*time.Millisecond,
		"the parked login behind the oversized one is applied once MongoDB serves")
	assert.Eventually(t, func() bool { return w.count("cold-big") == 1 }, 10*time.Second, 20*time.Millisecond,
		"the oversized login is applied too (held, never parked)")
}

// Review 7, finding 2: an event that fails on MongoDB every time while
// MongoDB answers its probe (e.g. a login whose query always exceeds
// --mongo-query-timeout: mongo.IsTimeout, a *DependencyError) used to be
// dead-lettered after MaxDeliver counted failures (the failures counted,
// only the delivery that paused MongoDB was held). Parked, it comes back as
// a new message with a fresh delivery count every time OutageConfig.Errors
// failures in a row pause MongoDB: it is never dead-lettered, and each lap
// pauses MongoDB again (every cold login of the replica held or parked).
func TestReview7PoisonEventCyclesThroughParkingForever(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Retry.MaxDeliver = 10 // the default; above OutageConfig.Errors (5)
	e := newEnv(t, cfg)
	w := newOutageWorld(t)
	park := newMemParking()
	var attempts atomic.Int64
	slow := HandlerFunc(func(ctx context.Context, ev Event) error {
		if ev.UserID == "slow" {
			attempts.Add(1)
			if err := w.o.Check(DepMongoDB); err != nil {
				return err
			}
			return Unavailable(DepMongoDB, errors.New("operation exceeded time limit")) // MongoDB itself answers
		}
		return w.Handle(ctx, ev)
	})
	r := e.start(allKinds(slow), withOutages(w.o), withParking(park))
	require.Eventually(t, r.c.Running, 5*time.Second, 10*time.Millisecond)

	e.publish("mcp.user.login", `{"userId":"slow"}`, nil)
	assert.Eventually(t, func() bool { return len(e.deadLetters()) == 1 }, 15*time.Second, 100*time.Millisecond,
		"the event that always fails is dead-lettered after MaxDeliver counted failures")
	t.Logf("%d attempts; the stream holds %d messages (each lap publishes it back)", attempts.Load(), e.streamMsgs())
}

func (e *env) streamMsgs() uint64 {
	e.t.Helper()
	s, err := e.nats.JS.Stream(ctxT(e.t), e.cfg.Stream)
	require.NoError(e.t, err)
	info, err := s.Info(ctxT(e.t))
	require.NoError(e.t, err)
	return info.State.Msgs
}
