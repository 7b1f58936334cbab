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
	ServerID(ctx context.Context, tenant, name string) (id string, found bool, err error)
}

var (
	_ ServerSource = (*serverdb.Store)(nil)
	_ ServerIDs    = (*serverdb.Store)(nil)
	_ AccessSource = (*serverdb.Store)(nil)
)

// TenantSource tells a user's tenant ("" default) when no server of the
// user's says it (serverdb.Store.UserTenant).
type TenantSource interface {
	UserTenant(ctx context.Context, userID string) (string, error)
}

// AccessSource reads from MongoDB's ACL what events do not carry: the users
// a server is shared with (server.access / server.unshared without
// allowedUserIds), a group's members and the servers a group reaches
// (group.changed). Streams call fn with chunks of user ids; duplicates across
// chunks are allowed.
type AccessSource interface {
	AllowedUsers(ctx context.Context, tenant, serverName string, fn func(userIDs []string) error) (public bool, err error)
	GroupMembers(ctx context.Context, tenant, groupID string, fn func(userIDs []string) error) error
	GroupServers(ctx context.Context, tenant, groupID string) ([]string, error)
}
