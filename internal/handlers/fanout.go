package handlers

import (
	"context"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/registry"
)

// fanOut brings the tiers and the users' memberships in line with a server's
// record after the aspects in res.Pending changed. The server's value lives
// once in its record, so a config change or a delete touches no user at all;
// only membership changes walk users, and only those that may change. It
// returns the tier the server is in now and whether it drained the revoke set.
//
//   - public: in its tier (app or user, from the config). Private memberships
//     stay, shadowed by the tier (readers: a tier beats private); a demote
//     settles them.
//   - deleted: in no tier; its value is gone (apply_record), so no reader
//     shows it; memberships lapse with their registries or are settled by a
//     re-create.
//   - private (or no scope event yet), when the allowed set is known and access
//     or scope changed: granted to the users the allowed set gained (all of it
//     after a scope change or an interrupted attempt) who are loaded or
//     loading; revoked from every user of the revoke set and of the login-holder
//     index who is not in the allowed set.
func fanOut(ctx context.Context, reg *registry.Registry, res registry.ApplyResult) (registry.Tier, bool, error) {
	rec := res.Record
	scopeChanged := res.Pending.Has(registry.AspectScope)
	switch rec.Scope {
	case registry.ScopePublic:
		tier := registry.TierFor(rec.Config)
		return tier, false, reg.PutTier(ctx, rec.Name, tier, rec.Rev)
	case registry.ScopeDeleted:
		return "", false, reg.RemoveDeletedFromTiers(ctx, rec.Name, rec.Rev)
	}
	if scopeChanged {
		if err := reg.PutTier(ctx, rec.Name, "", rec.Rev); err != nil {
			return "", false, err
		}
	}
	accessChanged := scopeChanged || res.Pending.Has(registry.AspectAccess)
	if rec.AccessVersion == 0 || !accessChanged {
		return "", false, nil
	}
	events.CountFanout(ctx, 0, 0) // a fan-out of zero users is observed too
	if err := grant(ctx, reg, res); err != nil {
		return "", false, err
	}
	if err := revoke(ctx, reg, rec); err != nil {
		return "", false, err
	}
	return "", true, nil
}

// grant gives the server to the users the allowed set gained, or to every
// allowed user when the gain is not known exactly.
func grant(ctx context.Context, reg *registry.Registry, res registry.ApplyResult) error {
	rec := res.Record
	exact := res.Diffed && !res.Pending.Has(registry.AspectScope) && !res.Unfinished.Has(registry.AspectAccess) &&
		!res.Unfinished.Has(registry.AspectScope)
	if exact {
		for start := 0; start < len(res.Added); start += registry.FanoutChunk {
			chunk := res.Added[start:min(start+registry.FanoutChunk, len(res.Added))]
			if _, err := reg.ApplyToUsers(ctx, rec.Name, rec.Rev, registry.OpSet, chunk); err != nil {
				return err
			}
			events.CountFanout(ctx, len(chunk), 0)
		}
		return nil
	}
	return reg.EachMember(ctx, rec.Name, registry.SetAllowed, func(users []string) error {
		_, err := reg.ApplyToUsers(ctx, rec.Name, rec.Rev, registry.OpSet, users)
		if err == nil {
			events.CountFanout(ctx, len(users), 0)
		}
		return err
	})
}

// revoke takes the server from every user of the revoke set and the holder
// index who is not in the allowed set, and prunes the holder index: holders
// who no longer hold the server, and holders the allowed set covers (a later
// removal finds them through the revoke set), so each login holder is walked
// at most once while allowed.
func revoke(ctx context.Context, reg *registry.Registry, rec registry.Record) error {
	if err := revokeRecent(ctx, reg, rec); err != nil {
		return err
	}
	return reg.EachHolder(ctx, rec.Name, func(users []string) error {
		return revokeOutsiders(ctx, reg, rec, users, true)
	})
}

// revokeRecent takes the server from every user of the revoke set (users an
// access change removed recently; the set lingers after a fan-out) who is not
// in the allowed set. A stale or duplicate event runs it too: a flow whose
// lock expired may have landed a grant after the newer flow finished and then
// died before flagging the fan-out, and its redelivery, though stale, must
// take that grant back. Cost: the recently removed users, none once the set
// expired.
func revokeRecent(ctx context.Context, reg *registry.Registry, rec registry.Record) error {
	return reg.EachMember(ctx, rec.Name, registry.SetRevoke, func(users []string) error {
		return revokeOutsiders(ctx, reg, rec, users, false)
	})
}

// revokeOutsiders removes the server from those of users the allowed set
// does not hold; with prune (users from the holder index) it also prunes the
// holder index.
func revokeOutsiders(ctx context.Context, reg *registry.Registry, rec registry.Record, users []string, prune bool) error {
	allowed, err := reg.AllowedAmong(ctx, rec.Name, users)
	if err != nil {
		return err
	}
	var targets, covered []string
	for i, u := range users {
		if !allowed[i] {
			targets = append(targets, u)
		} else {
			covered = append(covered, u)
		}
	}
	results, err := reg.ApplyToUsers(ctx, rec.Name, rec.Rev, registry.OpDelete, targets)
	if err != nil {
		return err
	}
	events.CountFanout(ctx, 0, len(targets))
	if !prune || registry.AuditFailed(ctx) != nil {
		// A put-off drain: the holders stay indexed, so that the
		// redelivery walks them again and drains their outboxes.
		return nil
	}
	if err := reg.ForgetHolders(ctx, rec.Name, covered); err != nil {
		return err
	}
	var gone []string
	for i, r := range results {
		if r != registry.ResultPending && r != registry.ResultStale {
			gone = append(gone, targets[i])
		}
	}
	return reg.PruneHolders(ctx, rec.Name, gone)
}
