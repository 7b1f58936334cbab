package handlers

import (
	"context"

	"github.com/mcp-registry/worker/internal/serverdb"
)

// ServerSource reads the servers a user may use (MongoDB in production,
// *serverdb.Store; tests can count or slow its calls).
type ServerSource interface {
	AccessibleServers(ctx context.Context, userID string) ([]serverdb.Server, error)
}

// ServerIDs resolves a server's MongoDB id by name (serverName, then legacy
// mcp_id) for server events that carry no dbId.
type ServerIDs interface {
	ServerID(ctx context.Context, name string) (id string, found bool, err error)
}

var (
	_ ServerSource = (*serverdb.Store)(nil)
	_ ServerIDs    = (*serverdb.Store)(nil)
)
