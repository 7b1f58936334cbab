package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/reader/layout"
)

// serverBusyDelay is how soon a server event is looked at again when another
// event of the same server holds its lock for longer than the lock wait.
const serverBusyDelay = 250 * time.Millisecond

// markTimeout bounds re-flagging an unfinished fan-out after a failure.
const markTimeout = 5 * time.Second

// ServerFlow handles one server.* kind. Under the server's lock it applies the
// event to the server's record (each aspect only if the event is newer),
// writes the server's one value from the record, brings tiers and memberships
// in line with it (fanOut), then marks the fan-out finished. A redelivery
// after a crash finds the fan-out unfinished and completes it; a duplicate or
// stale event is skipped.
type ServerFlow struct {
	kind   events.Kind
	reg    *registry.Registry
	locks  *lockstatus.Locker
	ids    ServerIDs
	access AccessSource
}

var _ events.Handler = (*ServerFlow)(nil)

// NewServerFlow returns the flow of kind, one of the server.* kinds. ids
// resolves a server's MongoDB id when an event carries none (nil: never);
// access derives the allowed users of an access event without a list (nil:
// such events are refused).
func NewServerFlow(kind events.Kind, reg *registry.Registry, locks *lockstatus.Locker, ids ServerIDs, access AccessSource) *ServerFlow {
	return &ServerFlow{kind: kind, reg: reg, locks: locks, ids: ids, access: access}
}

// serverFlows returns the handlers of the server.* kinds.
func serverFlows(reg *registry.Registry, locks *lockstatus.Locker, ids ServerIDs, access AccessSource) map[events.Kind]events.Handler {
	m := map[events.Kind]events.Handler{}
	for _, k := range []events.Kind{
		events.KindServerCreated, events.KindServerUpdated, events.KindServerAccess,
		events.KindServerShared, events.KindServerUnshared, events.KindServerDeleted,
	} {
		m[k] = NewServerFlow(k, reg, locks, ids, access)
	}
	return m
}

// Handle applies ev to its server.
func (h *ServerFlow) Handle(ctx context.Context, ev events.Event) error {
	change, err := changeFor(h.kind, ev)
	if err != nil {
		return events.Permanent(err)
	}
	server := change.Server // qualified by the event's tenant
	if ev.DeriveAccess && h.access == nil {
		return events.Permanentf("%s %q carries no allowedUserIds and no MongoDB is configured to derive them", h.kind, ev.ServerName)
	}
	err = h.locks.WithLock(ctx, h.reg.Keys().ServerLock(server), func(ctx context.Context, f lockstatus.Fence) error {
		if ev.DeriveAccess {
			if change, err = h.derive(ctx, f.Token, ev, change); err != nil {
				return err
			}
		}
		res, err := h.reg.ApplyChange(ctx, f.Token, change)
		if err != nil {
			return err
		}
		if res.Pending == 0 {
			rec := res.Record
			if rec.AccessVersion > 0 && rec.Scope != registry.ScopePublic && rec.Scope != registry.ScopeDeleted {
				if err := revokeRecent(ctx, h.reg, rec); err != nil {
					return err
				}
			}
			if err := registry.AuditFailed(ctx); err != nil {
				return err // retried: the redelivery drains the outboxes
			}
			return events.Skipf("%s version %d is not newer than what %q holds", h.kind, ev.Version, ev.ServerName)
		}
		drained := false
		lookupErr, err := h.writeValue(ctx, f.Token, res)
		if err == nil {
			var tier registry.Tier
			tier, drained, err = fanOut(ctx, h.reg, res)
			if err == nil && res.Pending.Has(registry.AspectScope) {
				err = h.reg.SettleServerTTL(ctx, f.Token, server)
			}
			if err == nil {
				// The users are done; the value still lacks its MongoDB id:
				// retried (held or parked while MongoDB is down).
				err = lookupErr
			}
			if err == nil {
				// Likewise some audit records wait in the users' outboxes:
				// the redelivery walks the users again and drains them.
				err = registry.AuditFailed(ctx)
			}
			if err == nil {
				err = h.reg.FinishFanout(ctx, f.Token, server, tier, drained)
			}
		}
		if err != nil {
			// A newer flow may have finished (and cleared the mask) while this
			// one, its lock lost, was still writing: flag the fan-out again so
			// that the retry redoes it from the current record.
			markCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
			defer cancel()
			return errors.Join(err, h.reg.MarkFanout(markCtx, server, res.Pending))
		}
		return nil
	})
	if errors.Is(err, lockstatus.ErrLocked) {
		return events.Busy(serverBusyDelay, "another event of this server holds its lock")
	}
	if err != nil && !errors.Is(err, events.ErrSkip) {
		return fmt.Errorf("%s %q: %w", h.kind, ev.ServerName, err)
	}
	return err
}

// derive builds the allowed set of an access event without a list from
// MongoDB's ACL, staging it in chunks (bounded memory whatever the share's
// size), and returns the change to apply. A public principal makes the
// server shared with everyone: the change becomes a promote.
func (h *ServerFlow) derive(ctx context.Context, token string, ev events.Event, c registry.Change) (registry.Change, error) {
	first := true
	public, err := h.access.AllowedUsers(ctx, ev.TenantID, ev.ServerName, func(users []string) error {
		err := h.reg.StageAllowed(ctx, c.Server, token, users, first)
		first = false
		return err
	})
	if err != nil {
		return c, fmt.Errorf("derive allowed users: %w", err)
	}
	if public {
		c.Scope, c.SetsAccess, c.Allowed = registry.ScopePublic, false, nil
		return c, nil
	}
	if first { // no chunk: nobody
		if err := h.reg.StageAllowed(ctx, c.Server, token, nil, true); err != nil {
			return c, err
		}
	}
	c.SetsAccess, c.Allowed, c.Staged = true, nil, true
	return c, nil
}

// writeValue writes the server's value from the record when its config or
// scope changed (or it has none yet), first resolving the server's MongoDB id
// if no event or login has given it. A deleted server has no value.
//
// When that look-up fails and the server has a value already, the value is
// written without the id (it had none) and the look-up's error is returned
// apart, as lookupErr: the flow fans out first and fails only then, so that
// a revoke never waits for MongoDB (review 8). A new server's first value
// waits for the look-up (err).
func (h *ServerFlow) writeValue(ctx context.Context, token string, res registry.ApplyResult) (lookupErr, err error) {
	rec := res.Record
	if rec.Scope == registry.ScopeDeleted || len(rec.Config) == 0 {
		return nil, nil
	}
	if rec.HasValue && rec.DBID != "" && !res.Pending.Has(registry.AspectConfig) && !res.Pending.Has(registry.AspectScope) {
		return nil, nil
	}
	dbID := ""
	if rec.DBID == "" && h.ids != nil {
		tenant, name := layout.Unqualify(rec.Name)
		id, found, err := h.ids.ServerID(ctx, tenant, name)
		switch {
		case err != nil && !rec.HasValue:
			return nil, err
		case err != nil:
			lookupErr = err
		case found:
			dbID = id
		}
	}
	return lookupErr, h.reg.PutValue(ctx, token, rec, dbID)
}

// changeFor says which aspects of the record an event sets.
func changeFor(kind events.Kind, ev events.Event) (registry.Change, error) {
	c := registry.Change{
		Server: layout.Qualify(ev.TenantID, ev.ServerName), Version: ev.Version, Config: ev.Config,
		UpdatedAtMs: ev.UpdatedAtMs, DBID: ev.DBID,
	}
	switch kind {
	case events.KindServerCreated:
		c.Scope, c.SetsAccess, c.Allowed = registry.ScopePrivate, true, []string{ev.UserID}
	case events.KindServerUpdated:
	case events.KindServerAccess:
		c.SetsAccess, c.Allowed = true, ev.AllowedUserIDs
	case events.KindServerShared:
		c.Scope = registry.ScopePublic
	case events.KindServerUnshared:
		c.Scope, c.SetsAccess, c.Allowed = registry.ScopePrivate, true, ev.AllowedUserIDs
	case events.KindServerDeleted:
		c.Scope, c.Config = registry.ScopeDeleted, nil
	default:
		return c, fmt.Errorf("not a server event kind: %s", kind)
	}
	if c.Version <= 0 {
		return c, fmt.Errorf("%s %q: version must be > 0", kind, ev.ServerName)
	}
	return c, nil
}
