package events

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/testenv"
)

// On a three-node cluster: both streams are created with StreamReplicas
// copies, an existing stream is scaled up to it but never down, and with
// provisioning off a stream with fewer copies than asked is refused.
func TestIntegrationProvisionStreamReplicas(t *testing.T) {
	t.Parallel()
	c := testenv.StartJSCluster(t)
	js, err := jetstream.New(c.Connect(t))
	require.NoError(t, err)
	ctx := ctxT(t)
	replicas := func(name string) int {
		t.Helper()
		st, err := js.Stream(ctx, name)
		require.NoError(t, err)
		return st.CachedInfo().Config.Replicas
	}

	r3 := testConfig()
	r3.Stream, r3.DLQStream, r3.AuditStream, r3.Prefix = "R3", "R3_DLQ", "R3_AUDIT", "r3"
	r3.StreamReplicas = 3
	require.NoError(t, Provision(ctx, js, r3))
	assert.Equal(t, 3, replicas("R3"))
	assert.Equal(t, 3, replicas("R3_DLQ"))
	cons, err := js.Consumer(ctx, "R3", r3.Consumer)
	require.NoError(t, err)
	assert.Len(t, cons.CachedInfo().Cluster.Replicas, 2, "the consumer is replicated with its stream")

	// The default (1) on an R3 stream: refused, nothing changed.
	r1 := r3
	r1.StreamReplicas = 1
	err = Provision(ctx, js, r1)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stream R3 has 3 replicas, --stream-replicas is 1")
	assert.Contains(t, err.Error(), "--stream-replicas=3")
	assert.Equal(t, 3, replicas("R3"))

	// An R1 stream of an earlier start is scaled up.
	up := testConfig()
	up.Stream, up.DLQStream, up.AuditStream, up.Prefix = "UP", "UP_DLQ", "UP_AUDIT", "up"
	require.NoError(t, Provision(ctx, js, up))
	assert.Equal(t, 1, replicas("UP"))
	up.StreamReplicas = 3
	off := up
	off.Provision = false
	err = Provision(ctx, js, off)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stream UP has 1 replicas, --stream-replicas is 3, and provisioning is off")
	require.NoError(t, Provision(ctx, js, up))
	assert.Equal(t, 3, replicas("UP"))
	assert.Equal(t, 3, replicas("UP_DLQ"))
	require.NoError(t, Provision(ctx, js, off), "provisioning off accepts the scaled stream")
}

func TestConfigStreamReplicasBounds(t *testing.T) {
	t.Parallel()
	for r, ok := range map[int]bool{0: false, 1: true, 3: true, 5: true, 6: false} {
		c := testConfig()
		c.StreamReplicas = r
		if ok {
			assert.NoError(t, c.Validate(), "replicas %d", r)
		} else {
			assert.ErrorContains(t, c.Validate(), "stream replicas", "replicas %d", r)
		}
	}
}
