package handlers

import (
	"time"

	"go.uber.org/fx"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
)

// Config tunes the flows.
type Config struct {
	// LoginRetryDelay is how soon a login that found the user's load in
	// progress elsewhere is handed back.
	LoginRetryDelay time.Duration
}

// Params is what the flows need.
type Params struct {
	fx.In

	Registry *registry.Registry
	Locks    *lockstatus.Locker
	Source   ServerSource
	IDs      ServerIDs    `optional:"true"`
	Access   AccessSource `optional:"true"`
	// Audit records every access change the flows make (nil: none).
	Audit  Auditor `optional:"true"`
	Config Config  `optional:"true"`
	// Gate is outage mode's (nil: calls to MongoDB are never refused early).
	Gate Gate `optional:"true"`
}

// Map returns the handler of every event kind the worker handles. Their
// errors tell a dependency that could not be reached (*events.DependencyError,
// see classified and gatedSource) from the event's own failure.
func Map(p Params) map[events.Kind]events.Handler {
	p = gateSources(p)
	m := map[events.Kind]events.Handler{
		events.KindUserLogin:      NewLogin(p.Registry, p.Locks, p.Source, p.Config.LoginRetryDelay),
		events.KindUserInvalidate: NewInvalidate(p.Registry),
		events.KindUserRefresh:    NewRefresh(p.Registry, p.Locks, p.Source, p.Config.LoginRetryDelay),
	}
	m[events.KindGroupChanged] = NewGroupChanged(p.Registry, p.Locks, p.Source, p.Access, p.Config.LoginRetryDelay)
	for kind, h := range serverFlows(p.Registry, p.Locks, p.IDs, p.Access) {
		m[kind] = h
	}
	if p.Audit != nil {
		for kind, h := range m {
			m[kind] = audited{flow: h, auditor: p.Audit}
		}
	}
	return classifyAll(m)
}

// Module provides the map[events.Kind]events.Handler the consumer dispatches
// to. It needs a *registry.Registry, a *lockstatus.Locker and a ServerSource.
var Module = fx.Module("handlers", fx.Provide(Map))
