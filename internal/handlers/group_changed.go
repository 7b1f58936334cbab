package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/reader/layout"
)

// GroupChanged handles group.changed: a group's members changed, so every
// loaded user the change may concern is refreshed (re-derived from MongoDB,
// swapped without an unloaded gap). With member lists, those users; without,
// the group's current members and the login holders of every server the
// group reaches (the removed members still hold them).
type GroupChanged struct {
	reg        *registry.Registry
	locks      *lockstatus.Locker
	source     ServerSource
	access     AccessSource
	retryDelay time.Duration
}

var _ events.Handler = (*GroupChanged)(nil)

// NewGroupChanged returns the group.changed flow; access may be nil when
// every event carries its member lists.
func NewGroupChanged(reg *registry.Registry, locks *lockstatus.Locker, source ServerSource, access AccessSource, retryDelay time.Duration) *GroupChanged {
	if retryDelay <= 0 {
		retryDelay = DefaultLoginRetryDelay
	}
	return &GroupChanged{reg: reg, locks: locks, source: source, access: access, retryDelay: retryDelay}
}

// Handle refreshes the users ev concerns. Users whose load runs elsewhere are
// retried once the others are done; the event is handed back (Busy) if some
// stay busy, and its redelivery refreshes again (idempotent).
func (h *GroupChanged) Handle(ctx context.Context, ev events.Event) error {
	users, err := h.concerned(ctx, ev)
	if err != nil {
		return err
	}
	var busy []string
	for _, u := range users {
		err := refreshUser(ctx, h.reg, h.locks, h.source, u)
		if errors.Is(err, lockstatus.ErrLocked) {
			busy = append(busy, u)
			continue
		}
		if err != nil {
			return fmt.Errorf("group %q: %w", ev.GroupID, err)
		}
	}
	if len(busy) > 0 {
		return events.Busy(h.retryDelay, fmt.Sprintf("%d of the group's users are loading elsewhere", len(busy)))
	}
	return nil
}

// concerned lists the users ev may change, each once.
func (h *GroupChanged) concerned(ctx context.Context, ev events.Event) ([]string, error) {
	if ev.AddedMemberIDs != nil || ev.RemovedMemberIDs != nil {
		users := slices.Concat(ev.AddedMemberIDs, ev.RemovedMemberIDs)
		slices.Sort(users)
		return slices.Compact(users), nil
	}
	if h.access == nil {
		return nil, events.Permanentf("group %q: no member lists and no MongoDB to read the members from", ev.GroupID)
	}
	seen := map[string]bool{}
	collect := func(users []string) error {
		for _, u := range users {
			seen[u] = true
		}
		return nil
	}
	if err := h.access.GroupMembers(ctx, ev.TenantID, ev.GroupID, collect); err != nil {
		return nil, fmt.Errorf("group %q members: %w", ev.GroupID, err)
	}
	servers, err := h.access.GroupServers(ctx, ev.TenantID, ev.GroupID)
	if err != nil {
		return nil, fmt.Errorf("group %q servers: %w", ev.GroupID, err)
	}
	for _, s := range servers {
		if err := h.reg.EachHolder(ctx, layout.Qualify(ev.TenantID, s), collect); err != nil {
			return nil, err
		}
	}
	users := make([]string, 0, len(seen))
	for u := range seen {
		users = append(users, u)
	}
	slices.Sort(users)
	return users, nil
}
