package events

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/mcp-registry/worker/internal/devstack"
)

// TestIntegrationSurvivesNATSRestart restarts the server (same port, same
// store) under a running Consumer: it resumes by itself (DESIGN hard case 16).
func TestIntegrationSurvivesNATSRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ns, err := devstack.StartNATS(devstack.NATSOptions{StoreDir: dir, Port: -1})
	require.NoError(t, err)
	shutdown := func(s *server.Server) {
		s.Shutdown()
		s.WaitForShutdown()
	}
	t.Cleanup(func() { shutdown(ns) })
	port := ns.Addr().(*net.TCPAddr).Port

	nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	cfg := testConfig()
	require.NoError(t, Provision(ctxT(t), js, cfg))

	rec := &recorder{}
	c, err := NewConsumer(ConsumerParams{JS: js, Config: cfg, Handlers: allKinds(rec), Logger: zap.NewNop()})
	require.NoError(t, err)
	c.pullExpiry = 2 * time.Second
	require.NoError(t, c.Start(ctxT(t)))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
	publish := func(data string) {
		t.Helper()
		require.Eventually(t, func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_, err := js.Publish(ctx, "mcp.user.login", []byte(data))
			return err == nil
		}, 10*time.Second, 50*time.Millisecond)
	}
	publish(`{"userId":"before"}`)
	rec.waitCalls(t, 1)

	shutdown(ns)
	ns, err = devstack.StartNATS(devstack.NATSOptions{StoreDir: dir, Port: port})
	require.NoError(t, err)
	publish(`{"userId":"after"}`)
	calls := rec.waitCalls(t, 2)
	assert.Equal(t, "after", calls[1].ev.UserID)
	assert.True(t, c.Running())
}
