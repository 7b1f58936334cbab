package testenv

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mcp-registry/worker/internal/devstack"
)

// Mongo is an embedded FerretDB private to one test. Stop and Start take it
// down and bring it back on the same port and data (an outage).
type Mongo struct {
	URI    string
	Client *mongo.Client
	DB     *mongo.Database

	dir  string
	addr string
	mu   sync.Mutex
	srv  *devstack.Mongo // nil while stopped
}

// StartMongo starts FerretDB (SQLite in a temp dir) and opens the database
// "LibreChat" on it. Cleanup disconnects and stops the server.
func StartMongo(t testing.TB) *Mongo {
	t.Helper()
	dir := t.TempDir()
	srv, err := devstack.StartMongo(devstack.MongoOptions{Dir: dir})
	if err != nil {
		t.Fatalf("start ferretdb: %v", err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI))
	if err != nil {
		srv.Close()
		t.Fatalf("connect mongo %s: %v", srv.URI, err)
	}
	m := &Mongo{URI: srv.URI, Client: client, DB: client.Database("LibreChat"), dir: dir, srv: srv}
	if m.addr = hostPort(srv.URI); m.addr == "" {
		srv.Close()
		t.Fatalf("ferretdb URI %s names no host", srv.URI)
	}
	t.Cleanup(m.Stop)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(ctx)
	})
	return m
}

// Stop shuts FerretDB down and waits for it; the data stays. Stopping a
// stopped server does nothing.
func (m *Mongo) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srv != nil {
		m.srv.Close()
		m.srv = nil
	}
}

// Start brings a stopped FerretDB back on the same port and data.
func (m *Mongo) Start(t testing.TB) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srv != nil {
		return
	}
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for { // the old listener's port may take a moment to be free
		m.srv, err = devstack.StartMongo(devstack.MongoOptions{Dir: m.dir, Addr: m.addr})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("restart ferretdb on %s: %v", m.addr, err)
	}
}

// hostPort is the host:port of a mongodb:// URI.
func hostPort(uri string) string {
	hosts := options.Client().ApplyURI(uri).Hosts
	if len(hosts) == 0 {
		return ""
	}
	return hosts[0]
}
