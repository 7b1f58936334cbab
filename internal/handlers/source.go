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

var _ ServerSource = (*serverdb.Store)(nil)
