package devstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Mongo is an embedded FerretDB v1 (SQLite backend) speaking the MongoDB wire
// protocol.
type Mongo struct {
	URI    string
	cancel context.CancelFunc
	done   chan struct{}
}

// MongoOptions configures the embedded MongoDB-protocol server.
type MongoOptions struct {
	// Dir holds the SQLite files. Required.
	Dir string
	// Addr to listen on, e.g. "127.0.0.1:27017"; "127.0.0.1:0" picks a free port.
	Addr string
	// Logger for FerretDB's own logs; nil discards them.
	Logger *slog.Logger
}

// newMu serialises ferretdb.New, which writes a package global
// (version.Get().Package): two starts at once are a data race.
var newMu sync.Mutex

// StartMongo starts FerretDB and returns once it listens. Safe for concurrent use.
func StartMongo(o MongoOptions) (*Mongo, error) {
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("mongo data dir: %w", err)
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("mongo data dir: %w", err)
	}
	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
	})
	newMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("ferretdb on %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Mongo{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		_ = f.Run(ctx) // always nil; listener errors are logged by FerretDB
	}()
	// MongoDBURI blocks until the listener is bound.
	m.URI = f.MongoDBURI()
	return m, nil
}

// Close stops FerretDB and waits for it.
func (m *Mongo) Close() {
	m.cancel()
	<-m.done
}
