package testenv

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/mcp-registry/worker/internal/devstack"
)

// JSCluster is a three-node JetStream cluster of embedded nats-servers,
// private to one test: replicated streams, a stream leader to find and kill,
// a node to restart on its ports and store. The cluster itself (usable
// without a testing.TB) is devstack.NATSCluster.
type JSCluster struct {
	*devstack.NATSCluster
}

// StartJSCluster starts three nodes with their stores under t.TempDir() and
// waits for the JetStream meta leader. Cleanup shuts every node down.
func StartJSCluster(t testing.TB) *JSCluster {
	t.Helper()
	c, err := devstack.StartNATSCluster(t.TempDir(), 3)
	if err != nil {
		t.Fatalf("start nats cluster: %v", err)
	}
	t.Cleanup(c.Shutdown)
	return &JSCluster{NATSCluster: c}
}

// Connect opens a client connection to every node's URL (it fails over when
// its node dies), closed at cleanup.
func (c *JSCluster) Connect(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(c.URLs(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatalf("connect nats cluster %s: %v", c.URLs(), err)
	}
	t.Cleanup(nc.Close)
	return nc
}
