package handlers

import (
	"context"
	"errors"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/registry"
)

// Gate refuses, at once, calls to a dependency known down
// (*events.Outages.Check): while MongoDB is down a cold login fails in
// microseconds instead of holding a slot for the driver's timeout, so warm
// logins and server events keep the slots.
type Gate interface {
	Check(dep events.Dependency) error
}

// classified wraps a flow so that a failure to reach Redis comes back as an
// *events.DependencyError (MongoDB's are wrapped by the sources, see
// gatedSource): the consume loop's outage mode tells a dependency being down
// from an event failing. A script error, a fenced write or a bad document is
// never classified.
type classified struct{ h events.Handler }

var _ events.Handler = classified{}

// Handle runs the flow and classifies its error.
func (c classified) Handle(ctx context.Context, ev events.Event) error {
	err := c.h.Handle(ctx, ev)
	switch {
	case err == nil,
		errors.Is(err, events.ErrPermanent),
		errors.Is(err, events.ErrSkip):
		return err
	}
	if _, ok := errors.AsType[*events.BusyError](err); ok {
		return err
	}
	if _, ok := errors.AsType[*events.DependencyError](err); ok {
		return err
	}
	if ctx.Err() == nil && registry.Unreachable(err) {
		return events.Unavailable(events.DepRedis, err)
	}
	return err
}

// classifyAll wraps every flow of m.
func classifyAll(m map[events.Kind]events.Handler) map[events.Kind]events.Handler {
	for k, h := range m {
		m[k] = classified{h: h}
	}
	return m
}
