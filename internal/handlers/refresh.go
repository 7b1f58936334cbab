package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
)

// Refresh handles user.refresh: the user's groups or role changed, so a
// loaded user's registry is re-derived from MongoDB and swapped in one step
// (readers see the old snapshot, then the new one, never "not loaded"); a
// user who is not loaded is left alone (the next login reads MongoDB).
type Refresh struct{ userFlow }

var _ events.Handler = (*Refresh)(nil)

// NewRefresh returns the refresh flow. retryDelay 0 means DefaultLoginRetryDelay.
func NewRefresh(reg *registry.Registry, locks *lockstatus.Locker, source ServerSource, retryDelay time.Duration) *Refresh {
	return &Refresh{newUserFlow(reg, locks, source, retryDelay)}
}

// Handle refreshes ev.UserID.
func (h *Refresh) Handle(ctx context.Context, ev events.Event) error {
	err := refreshUser(ctx, h.reg, h.locks, h.source, ev.UserID)
	if errors.Is(err, lockstatus.ErrLocked) {
		return events.Busy(h.retryDelay, "a load of this user is in progress elsewhere")
	}
	return err
}

// refreshUser re-derives user if loaded (one round trip when not). A load
// holding the user's lock elsewhere returns lockstatus.ErrLocked: that load
// began before the change and may miss it, so the caller retries.
func refreshUser(ctx context.Context, reg *registry.Registry, locks *lockstatus.Locker, source ServerSource, user string) error {
	loaded, err := reg.Loaded(ctx, user)
	if err != nil || !loaded {
		return err
	}
	err = locks.TryWithLock(ctx, reg.Keys().UserLock(user), func(ctx context.Context, f lockstatus.Fence) error {
		return loadUser(ctx, reg, source, user, f.Token, registry.ModeRefresh)
	})
	if err != nil && !errors.Is(err, lockstatus.ErrLocked) {
		return fmt.Errorf("refresh %s: %w", user, err)
	}
	return err
}
