package testenv

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mcp-registry/worker/internal/devstack"
)

// NATS is an embedded nats-server with JetStream, private to one test.
type NATS struct {
	Server *server.Server
	URL    string
	Conn   *nats.Conn
	JS     jetstream.JetStream
}

// StartNATS starts a JetStream server on a free loopback port (so that other
// processes can connect too) and connects to it. Cleanup shuts both down.
func StartNATS(t testing.TB) *NATS {
	t.Helper()
	ns, err := devstack.StartNATS(devstack.NATSOptions{StoreDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatalf("start nats: %v", err)
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	n := &NATS{Server: ns, URL: ns.ClientURL()}
	n.Conn = n.Connect(t)
	js, err := jetstream.New(n.Conn)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	n.JS = js
	return n
}

// Connect opens another client connection, closed at cleanup.
func (n *NATS) Connect(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(n.URL, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatalf("connect nats %s: %v", n.URL, err)
	}
	t.Cleanup(nc.Close)
	return nc
}
