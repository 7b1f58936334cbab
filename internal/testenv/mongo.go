package testenv

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mcp-registry/worker/internal/devstack"
)

// Mongo is an embedded FerretDB private to one test.
type Mongo struct {
	URI    string
	Client *mongo.Client
	DB     *mongo.Database
}

// StartMongo starts FerretDB (SQLite in a temp dir) and opens the database
// "LibreChat" on it. Cleanup disconnects and stops the server.
func StartMongo(t testing.TB) *Mongo {
	t.Helper()
	srv, err := devstack.StartMongo(devstack.MongoOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("start ferretdb: %v", err)
	}
	t.Cleanup(srv.Close)
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI))
	if err != nil {
		t.Fatalf("connect mongo %s: %v", srv.URI, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(ctx)
	})
	return &Mongo{URI: srv.URI, Client: client, DB: client.Database("LibreChat")}
}
