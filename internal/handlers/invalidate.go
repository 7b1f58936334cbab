package handlers

import (
	"context"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/registry"
)

// Invalidate handles user.invalidate: it forgets the user's cached registry
// (registry, loaded flag, and any load in progress, whose commit is then
// refused and retried), so the next login reads MongoDB again.
type Invalidate struct {
	reg *registry.Registry
}

var _ events.Handler = (*Invalidate)(nil)

// NewInvalidate returns the invalidate flow.
func NewInvalidate(reg *registry.Registry) *Invalidate { return &Invalidate{reg: reg} }

// Handle invalidates ev.UserID. Idempotent.
func (h *Invalidate) Handle(ctx context.Context, ev events.Event) error {
	return h.reg.Invalidate(ctx, ev.UserID)
}
