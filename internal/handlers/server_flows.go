package handlers

import (
	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
)

// serverFlows returns the handlers of the server.* kinds.
func serverFlows(_ *registry.Registry, _ *lockstatus.Locker) map[events.Kind]events.Handler {
	return map[events.Kind]events.Handler{}
}
