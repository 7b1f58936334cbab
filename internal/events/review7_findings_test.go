package events

import (
	"strings"
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
	require.Eventually(t, func() bool { return park.len(DepMongoDB) >= 1 && park.len(DepMongoDB)+e.consumerInfo().NumAckPending == 2 },
		10*time.Second, 10*time.Millisecond, "both cold logins parked (or held)")

	w.mongo.down.Store(false)
	assert.Eventually(t, func() bool { return w.count("cold-small") == 1 }, 10*time.Second, 20*time.Millisecond,
		"the parked login behind the oversized one is applied once MongoDB serves")
	assert.Eventually(t, func() bool { return w.count("cold-big") == 1 }, 10*time.Second, 20*time.Millisecond,
		"the oversized login is applied too (held, never parked)")
}
