package handlers

import (
	"context"
	"errors"
	"sync"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// The MongoDB side of outage mode: every call of the flows to MongoDB goes
// through these wrappers of ServerSource, TenantSource, ServerIDs and
// AccessSource. Each refuses at once while the Gate says MongoDB is down,
// and returns a failure to reach MongoDB (serverdb.Unreachable) as an
// *events.DependencyError of events.DepMongoDB. Only here is an error known
// to come from MongoDB, so only here is it classified as MongoDB's.

// mongoCheck is the gate's answer for MongoDB (nil gate: always open).
func mongoCheck(g Gate) error {
	if g == nil {
		return nil
	}
	return g.Check(events.DepMongoDB)
}

// mongoErr classifies err of a MongoDB call made with ctx.
func mongoErr(ctx context.Context, err error) error {
	if serverdb.Unreachable(ctx, err) {
		return events.Unavailable(events.DepMongoDB, err)
	}
	return err
}

// gatedSource is ServerSource and TenantSource through the gate.
type gatedSource struct {
	src  ServerSource
	gate Gate
}

var (
	_ ServerSource = gatedSource{}
	_ TenantSource = gatedSource{}
)

func (g gatedSource) AccessibleServers(ctx context.Context, userID string) ([]serverdb.Server, error) {
	if err := mongoCheck(g.gate); err != nil {
		return nil, err
	}
	servers, err := g.src.AccessibleServers(ctx, userID)
	return servers, mongoErr(ctx, err)
}

// UserTenant answers as the source does; a source that cannot tell gives
// the default tenant, as userTenant does for it.
func (g gatedSource) UserTenant(ctx context.Context, userID string) (string, error) {
	ts, ok := g.src.(TenantSource)
	if !ok {
		return "", nil
	}
	if err := mongoCheck(g.gate); err != nil {
		return "", err
	}
	t, err := ts.UserTenant(ctx, userID)
	return t, mongoErr(ctx, err)
}

// gatedIDs is ServerIDs through the gate.
type gatedIDs struct {
	ids  ServerIDs
	gate Gate
}

func (g gatedIDs) ServerID(ctx context.Context, tenant, name string) (string, bool, error) {
	if err := mongoCheck(g.gate); err != nil {
		return "", false, err
	}
	id, found, err := g.ids.ServerID(ctx, tenant, name)
	return id, found, mongoErr(ctx, err)
}

// gatedAccess is AccessSource through the gate. The callbacks write to
// Redis: their errors are passed on as they are, never taken for MongoDB's.
type gatedAccess struct {
	access AccessSource
	gate   Gate
}

func (g gatedAccess) AllowedUsers(ctx context.Context, tenant, serverName string, fn func(userIDs []string) error) (bool, error) {
	if err := mongoCheck(g.gate); err != nil {
		return false, err
	}
	cb := callbackErr{fn: fn}
	public, err := g.access.AllowedUsers(ctx, tenant, serverName, cb.call)
	return public, cb.classify(ctx, err)
}

func (g gatedAccess) GroupMembers(ctx context.Context, tenant, groupID string, fn func(userIDs []string) error) error {
	if err := mongoCheck(g.gate); err != nil {
		return err
	}
	cb := callbackErr{fn: fn}
	return cb.classify(ctx, g.access.GroupMembers(ctx, tenant, groupID, cb.call))
}

func (g gatedAccess) GroupServers(ctx context.Context, tenant, groupID string) ([]string, error) {
	if err := mongoCheck(g.gate); err != nil {
		return nil, err
	}
	names, err := g.access.GroupServers(ctx, tenant, groupID)
	return names, mongoErr(ctx, err)
}

// callbackErr remembers the error of a streaming callback, so that an
// error the callback returned is not classified as MongoDB's.
type callbackErr struct {
	fn  func(userIDs []string) error
	mu  sync.Mutex
	err error
}

func (c *callbackErr) call(ids []string) error {
	err := c.fn(ids)
	if err != nil {
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
	}
	return err
}

func (c *callbackErr) classify(ctx context.Context, err error) error {
	c.mu.Lock()
	cbErr := c.err
	c.mu.Unlock()
	if cbErr != nil && errors.Is(err, cbErr) {
		return err
	}
	return mongoErr(ctx, err)
}

// gateSources wraps p's MongoDB sources (nil ones stay nil).
func gateSources(p Params) Params {
	if p.Source != nil {
		p.Source = gatedSource{src: p.Source, gate: p.Gate}
	}
	if p.IDs != nil {
		p.IDs = gatedIDs{ids: p.IDs, gate: p.Gate}
	}
	if p.Access != nil {
		p.Access = gatedAccess{access: p.Access, gate: p.Gate}
	}
	return p
}
