package testenv_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/testenv"
)

// The cluster replicates a stream on three nodes; killing the stream's
// leader elects another while the stream keeps every message, and the
// killed node comes back on its ports and store and catches up.
func TestIntegrationJSClusterLeaderKillAndRestart(t *testing.T) {
	c := testenv.StartJSCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	js, err := jetstream.New(c.Connect(t))
	require.NoError(t, err)
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "R3", Subjects: []string{"r3.>"}, Replicas: 3})
	require.NoError(t, err)
	for range 5 {
		_, err := js.Publish(ctx, "r3.x", []byte("m"))
		require.NoError(t, err)
	}
	leader, err := c.WaitStreamLeader("R3", 10*time.Second)
	require.NoError(t, err)
	st, err := js.Stream(ctx, "R3")
	require.NoError(t, err)
	require.NotNil(t, st.CachedInfo().Cluster)
	assert.Equal(t, c.Name(leader), st.CachedInfo().Cluster.Leader, "the stream info names the same leader")
	assert.Len(t, st.CachedInfo().Cluster.Replicas, 2)

	c.Kill(leader)
	assert.False(t, c.Running(leader))
	next, err := c.WaitStreamLeader("R3", 20*time.Second)
	require.NoError(t, err)
	assert.NotEqual(t, leader, next, "another node leads")
	require.Eventually(t, func() bool {
		_, err := js.Publish(ctx, "r3.x", []byte("m"))
		return err == nil
	}, 20*time.Second, 50*time.Millisecond, "publishes succeed on the new leader")

	require.NoError(t, c.Restart(leader, 30*time.Second))
	info, err := st.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(6), info.State.Msgs)
	require.Eventually(t, func() bool {
		info, err := st.Info(ctx)
		if err != nil || info.Cluster == nil {
			return false
		}
		for _, r := range info.Cluster.Replicas {
			if !r.Current {
				return false
			}
		}
		return len(info.Cluster.Replicas) == 2
	}, 30*time.Second, 100*time.Millisecond, "the restarted node is a current replica again")
}
