package handlers

import (
	"context"
	"fmt"

	"github.com/mcp-registry/worker/internal/registry"
)

// fanOut brings the tiers and the private registries in line with a server's
// record after the aspects in pending changed, writing the canonical value
// (record config + dbId + version) everywhere. It touches only the users the
// change concerns (the reverse index and the allowed set, walked in chunks),
// never the keyspace. It returns the tier the server is in now.
//
//   - public: in its tier (app or user, from the config); if the scope just
//     changed, out of every private registry.
//   - deleted: in no tier and, if the scope just changed, in no registry.
//   - private (or no scope event yet): in no tier; when the allowed set is
//     known and access or scope changed: granted to every allowed user who is
//     loaded (or loading), revoked from every other user who has it; when only
//     the config changed: replaced where cached (revoked where cached but no
//     longer allowed).
func fanOut(ctx context.Context, reg *registry.Registry, rec registry.Record, pending registry.Aspects) (registry.Tier, error) {
	value, err := registry.Value(rec.Config, rec.DBID, rec.ConfigVersion)
	if err != nil {
		return "", fmt.Errorf("value of %q: %w", rec.Name, err)
	}
	scopeChanged := pending.Has(registry.AspectScope)
	switch rec.Scope {
	case registry.ScopePublic:
		tier := registry.TierFor(rec.Config)
		if err := reg.PutTier(ctx, rec.Name, tier, value, rec.Rev); err != nil {
			return "", err
		}
		if scopeChanged {
			return tier, revokeCached(ctx, reg, rec, func(string, bool) bool { return true })
		}
		return tier, nil
	case registry.ScopeDeleted:
		if err := reg.PutTier(ctx, rec.Name, "", nil, rec.Rev); err != nil {
			return "", err
		}
		if scopeChanged {
			return "", revokeCached(ctx, reg, rec, func(string, bool) bool { return true })
		}
		return "", nil
	}
	if scopeChanged {
		if err := reg.PutTier(ctx, rec.Name, "", nil, rec.Rev); err != nil {
			return "", err
		}
	}
	accessKnown := rec.AccessVersion > 0
	if accessKnown && (scopeChanged || pending.Has(registry.AspectAccess)) {
		if err := grantAllowed(ctx, reg, rec, value); err != nil {
			return "", err
		}
		return "", revokeCached(ctx, reg, rec, func(_ string, allowed bool) bool { return !allowed })
	}
	if pending.Has(registry.AspectConfig) || scopeChanged {
		return "", updateCached(ctx, reg, rec, value, accessKnown)
	}
	return "", nil
}

// grantAllowed gives the server to every allowed user who is loaded or loading.
func grantAllowed(ctx context.Context, reg *registry.Registry, rec registry.Record, value []byte) error {
	return reg.EachMember(ctx, rec.Name, registry.SetAllowed, func(users []string) error {
		_, err := reg.ApplyToUsers(ctx, rec.Name, rec.Rev, value, registry.OpSet, users)
		return err
	})
}

// revokeCached removes the server from every user in the reverse index for
// whom revoke(user, allowed) holds, and prunes users who are no longer loaded.
func revokeCached(ctx context.Context, reg *registry.Registry, rec registry.Record, revoke func(user string, allowed bool) bool) error {
	return reg.EachMember(ctx, rec.Name, registry.SetCachedBy, func(users []string) error {
		allowed, err := allowedAmong(ctx, reg, rec, users)
		if err != nil {
			return err
		}
		var targets []string
		for i, u := range users {
			if revoke(u, allowed[i]) {
				targets = append(targets, u)
			}
		}
		results, err := reg.ApplyToUsers(ctx, rec.Name, rec.Rev, nil, registry.OpDelete, targets)
		if err != nil {
			return err
		}
		return reg.PruneCachedBy(ctx, rec.Name, idle(targets, results))
	})
}

// updateCached replaces the server's value where it is cached (and removes it
// where it is cached but the allowed set no longer holds the user).
func updateCached(ctx context.Context, reg *registry.Registry, rec registry.Record, value []byte, accessKnown bool) error {
	return reg.EachMember(ctx, rec.Name, registry.SetCachedBy, func(users []string) error {
		allowed, err := allowedAmong(ctx, reg, rec, users)
		if err != nil {
			return err
		}
		var keep, drop []string
		for i, u := range users {
			if !accessKnown || allowed[i] {
				keep = append(keep, u)
			} else {
				drop = append(drop, u)
			}
		}
		kept, err := reg.ApplyToUsers(ctx, rec.Name, rec.Rev, value, registry.OpUpdate, keep)
		if err != nil {
			return err
		}
		dropped, err := reg.ApplyToUsers(ctx, rec.Name, rec.Rev, nil, registry.OpDelete, drop)
		if err != nil {
			return err
		}
		return reg.PruneCachedBy(ctx, rec.Name, append(idle(keep, kept), idle(drop, dropped)...))
	})
}

// allowedAmong asks the allowed set only when the record has one.
func allowedAmong(ctx context.Context, reg *registry.Registry, rec registry.Record, users []string) ([]bool, error) {
	if rec.AccessVersion == 0 {
		return make([]bool, len(users)), nil
	}
	return reg.AllowedAmong(ctx, rec.Name, users)
}

// idle returns the users that were neither loaded nor loading.
func idle(users []string, results []registry.UserResult) []string {
	var out []string
	for i, r := range results {
		if r == registry.ResultNotLoaded {
			out = append(out, users[i])
		}
	}
	return out
}
