package events

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/testenv"
)

func TestIntegrationProvisionIsIdempotent(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	c := testConfig()
	ctx := ctxT(t)
	require.NoError(t, Provision(ctx, n.JS, c))
	require.NoError(t, Provision(ctx, n.JS, c), "second provision")

	st, err := n.JS.Stream(ctx, c.Stream)
	require.NoError(t, err)
	sc := st.CachedInfo().Config
	assert.Equal(t, []string{"mcp.user.>", "mcp.server.>"}, sc.Subjects)
	assert.Equal(t, jetstream.LimitsPolicy, sc.Retention)
	assert.Equal(t, jetstream.FileStorage, sc.Storage)
	assert.Equal(t, 2*time.Minute, sc.Duplicates)
	assert.Equal(t, 7*24*time.Hour, sc.MaxAge)

	dlq, err := n.JS.Stream(ctx, c.DLQStream)
	require.NoError(t, err)
	assert.Equal(t, []string{"mcp.dlq.>"}, dlq.CachedInfo().Config.Subjects)
	assert.Equal(t, jetstream.LimitsPolicy, dlq.CachedInfo().Config.Retention)

	cons, err := n.JS.Consumer(ctx, c.Stream, c.Consumer)
	require.NoError(t, err)
	cc := cons.CachedInfo().Config
	assert.Equal(t, c.Consumer, cc.Durable)
	assert.Equal(t, jetstream.AckExplicitPolicy, cc.AckPolicy)
	assert.Equal(t, jetstream.DeliverAllPolicy, cc.DeliverPolicy)
	assert.Equal(t, time.Second, cc.AckWait)
	assert.Equal(t, -1, cc.MaxDeliver)
	assert.Equal(t, 100, cc.MaxAckPending)

	// A changed setting is applied to the existing consumer.
	c.AckWait = 2 * time.Second
	require.NoError(t, Provision(ctx, n.JS, c))
	cons, err = n.JS.Consumer(ctx, c.Stream, c.Consumer)
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, cons.CachedInfo().Config.AckWait)

	// With provisioning off, what exists is accepted.
	c.Provision = false
	require.NoError(t, Provision(ctx, n.JS, c))
}

func TestIntegrationProvisionOffNamesWhatIsMissing(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	c := testConfig()
	c.Provision = false
	ctx := ctxT(t)

	err := Provision(ctx, n.JS, c)
	require.Error(t, err)
	assert.ErrorIs(t, err, jetstream.ErrStreamNotFound)
	for _, want := range []string{"provisioning is off", "stream MCP_REGISTRY", "stream MCP_REGISTRY_DLQ", "consumer mcp-registry-worker"} {
		assert.Contains(t, err.Error(), want)
	}

	// Only the consumer missing.
	on := c
	on.Provision = true
	require.NoError(t, Provision(ctx, n.JS, on))
	require.NoError(t, n.JS.DeleteConsumer(ctx, c.Stream, c.Consumer))
	err = Provision(ctx, n.JS, c)
	require.Error(t, err)
	assert.ErrorIs(t, err, jetstream.ErrConsumerNotFound)
	assert.Contains(t, err.Error(), "consumer mcp-registry-worker")
	assert.NotContains(t, err.Error(), "stream MCP_REGISTRY,")

	// A consumer that cannot take acks is refused.
	_, err = n.JS.CreateConsumer(ctx, c.Stream, jetstream.ConsumerConfig{Durable: c.Consumer, AckPolicy: jetstream.AckNonePolicy})
	require.NoError(t, err)
	err = Provision(ctx, n.JS, c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ack policy")

	// So is one whose server-side MaxDeliver would stop redeliveries before
	// the worker dead-letters.
	require.NoError(t, n.JS.DeleteConsumer(ctx, c.Stream, c.Consumer))
	_, err = n.JS.CreateConsumer(ctx, c.Stream, jetstream.ConsumerConfig{
		Durable: c.Consumer, AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: 5,
	})
	require.NoError(t, err)
	err = Provision(ctx, n.JS, c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "max deliver is 5")
}

func TestIntegrationProvisionRefusesInvalidConfig(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	c := testConfig()
	c.Concurrency = 0
	require.ErrorContains(t, Provision(ctxT(t), n.JS, c), "concurrency")
}
