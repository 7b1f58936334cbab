package events

import (
	"fmt"
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
	assert.Equal(t, []string{"mcp.user.>", "mcp.server.>", "mcp.group.>"}, sc.Subjects)
	assert.Equal(t, jetstream.LimitsPolicy, sc.Retention)
	assert.Equal(t, jetstream.FileStorage, sc.Storage)
	assert.Equal(t, 2*time.Minute, sc.Duplicates)
	assert.Equal(t, 7*24*time.Hour, sc.MaxAge)

	dlq, err := n.JS.Stream(ctx, c.DLQStream)
	require.NoError(t, err)
	assert.Equal(t, []string{"mcp.dlq.>"}, dlq.CachedInfo().Config.Subjects)
	assert.Equal(t, jetstream.LimitsPolicy, dlq.CachedInfo().Config.Retention)

	audit, err := n.JS.Stream(ctx, c.AuditStream)
	require.NoError(t, err)
	ac := audit.CachedInfo().Config
	assert.Equal(t, []string{"mcp.audit.>"}, ac.Subjects)
	assert.Equal(t, jetstream.LimitsPolicy, ac.Retention)
	assert.Equal(t, 90*24*time.Hour, ac.MaxAge)
	assert.Equal(t, 15*time.Minute, ac.Duplicates)

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
	for _, want := range []string{"provisioning is off", "stream MCP_REGISTRY", "stream MCP_REGISTRY_DLQ", "stream MCP_REGISTRY_AUDIT", "consumer mcp-registry-worker"} {
		assert.Contains(t, err.Error(), want)
	}

	// Only the audit stream missing.
	on := c
	on.Provision = true
	require.NoError(t, Provision(ctx, n.JS, on))
	require.NoError(t, n.JS.DeleteStream(ctx, c.AuditStream))
	err = Provision(ctx, n.JS, c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stream MCP_REGISTRY_AUDIT")

	// Only the consumer missing.
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

	// Exactly the busy limit is not enough either: writing a dead letter may
	// take up to deadLetterTries more deliveries (review finding).
	busy := max(c.Retry.MaxDeliver, c.Retry.BusyMaxDeliver)
	for maxDeliver, ok := range map[int]bool{busy: false, busy + deadLetterTries: true} {
		require.NoError(t, n.JS.DeleteConsumer(ctx, c.Stream, c.Consumer))
		_, err = n.JS.CreateConsumer(ctx, c.Stream, jetstream.ConsumerConfig{
			Durable: c.Consumer, AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: maxDeliver,
		})
		require.NoError(t, err)
		err = Provision(ctx, n.JS, c)
		if ok {
			assert.NoError(t, err, "max deliver %d", maxDeliver)
		} else {
			assert.ErrorContains(t, err, fmt.Sprintf("max deliver is %d", maxDeliver))
		}
	}
}

func TestIntegrationProvisionRefusesInvalidConfig(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	c := testConfig()
	c.Concurrency = 0
	require.ErrorContains(t, Provision(ctxT(t), n.JS, c), "concurrency")
}

// Two deployments on one account must not take turns rewriting a stream:
// provisioning refuses a stream that exists with subjects not its own, and
// changes nothing.
func TestIntegrationProvisionRefusesStreamsItDoesNotOwn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, stream string
		subjects     []string
	}{
		{"dead-letter stream of another prefix", DefaultDLQStream, []string{"other.dlq.>"}},
		{"main stream of another prefix", DefaultStream, []string{"other.user.>", "other.server.>"}},
		{"main stream with one foreign subject", DefaultStream, []string{"mcp.user.>", "billing.>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := testenv.StartNATS(t)
			ctx := ctxT(t)
			_, err := n.JS.CreateStream(ctx, jetstream.StreamConfig{Name: tt.stream, Subjects: tt.subjects})
			require.NoError(t, err)

			err = Provision(ctx, n.JS, testConfig())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "stream "+tt.stream)
			assert.Contains(t, err.Error(), "not ours")
			st, err := n.JS.Stream(ctx, tt.stream)
			require.NoError(t, err)
			assert.Equal(t, tt.subjects, st.CachedInfo().Config.Subjects, "left as it was")
		})
	}

	// A stream holding a subset of ours (an older release) is updated.
	n := testenv.StartNATS(t)
	ctx := ctxT(t)
	_, err := n.JS.CreateStream(ctx, jetstream.StreamConfig{Name: DefaultStream, Subjects: []string{"mcp.user.>"}})
	require.NoError(t, err)
	require.NoError(t, Provision(ctx, n.JS, testConfig()))
	st, err := n.JS.Stream(ctx, DefaultStream)
	require.NoError(t, err)
	assert.Equal(t, testConfig().Subjects().StreamSubjects(), st.CachedInfo().Config.Subjects)
}

func TestDLQStreamFor(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "MCP_REGISTRY_DLQ", DLQStreamFor("MCP_REGISTRY"))
	assert.Equal(t, "EVENTS_DLQ", DLQStreamFor("EVENTS"))
	assert.Equal(t, DLQStreamFor(DefaultStream), DefaultConfig().DLQStream)
}

func TestAuditStreamFor(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "MCP_REGISTRY_AUDIT", AuditStreamFor("MCP_REGISTRY"))
	assert.Equal(t, AuditStreamFor(DefaultStream), DefaultConfig().AuditStream)
}

// Audit subjects carry ids as one literal token each, whatever bytes the ids
// hold, and the filters select exactly one user's or one server's records.
func TestAuditSubjects(t *testing.T) {
	t.Parallel()
	s := Subjects{Prefix: "acme.mcp"}
	assert.Equal(t, []string{"acme.mcp.audit.>"}, s.AuditSubjects())
	for _, id := range []string{"u1", "a.b", "*", ">", "my user", "ユーザー", "a\x1fb"} {
		tok := AuditToken(id)
		assert.Regexp(t, `^[A-Za-z0-9_-]{2,}$`, tok, "token of %q", id)
	}
	assert.Equal(t, "acme.mcp.audit."+AuditToken("a.b")+"."+AuditToken("gh *"), s.Audit("a.b", false, "gh *"))
	assert.Equal(t, "acme.mcp.audit._."+AuditToken("gh"), s.Audit("*", true, "gh"))
	assert.NotEqual(t, s.Audit("*", true, "gh"), s.Audit("*", false, "gh"), "a user named * is not every user")
	assert.Equal(t, "acme.mcp.audit."+AuditToken("u")+".*", s.AuditFilter("u", false, ""))
	assert.Equal(t, "acme.mcp.audit.*."+AuditToken("gh"), s.AuditFilter("", false, "gh"))
	assert.Equal(t, "acme.mcp.audit._.*", s.AuditFilter("", true, ""))
}
