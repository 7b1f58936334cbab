package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// ErrLayout says Redis holds a registry layout this worker does not know (a
// newer worker wrote it): starting would serve or write wrong data.
var ErrLayout = errors.New("unknown registry layout")

// EnsureLayout makes the keys under the prefix follow LayoutVersion before the
// worker starts. On a prefix the first layout wrote (no layout key, legacy
// tiers present) it migrates the shared tiers (their values become the
// servers' values) and leaves users' first-layout registries alone: their key
// names differ, so every such user reads as not loaded and the next login
// reloads from MongoDB; the old keys expire by their TTL. Server records carry
// over (apply_record.lua widens first-layout versions). Idempotent; safe when
// several workers start at once.
func (r *Registry) EnsureLayout(ctx context.Context) error {
	k := r.keys
	v, err := r.rdb.Get(ctx, k.Layout()).Result()
	if err != nil && !isNil(err) {
		return fmt.Errorf("read registry layout: %w", err)
	}
	switch v {
	case strconv.Itoa(LayoutVersion):
		return nil
	case "", "1":
	default:
		return fmt.Errorf("%w: %q holds layout %s, this worker writes %d", ErrLayout, k.Layout(), v, LayoutVersion)
	}
	for _, t := range SharedTiers {
		if err := r.migrateTier(ctx, t); err != nil {
			return err
		}
	}
	if err := r.rdb.Set(ctx, k.Layout(), LayoutVersion, 0).Err(); err != nil {
		return fmt.Errorf("write registry layout: %w", err)
	}
	return nil
}

// migrateTier moves one first-layout tier (name -> value) to the second
// layout (name -> revision, value in the server's value key).
func (r *Registry) migrateTier(ctx context.Context, t Tier) error {
	k := r.keys
	old, err := r.rdb.HGetAll(ctx, k.LegacyTier(t)).Result()
	if err != nil {
		return fmt.Errorf("read first-layout tier %s: %w", t, err)
	}
	for name, value := range old {
		rev, err := r.rdb.HGet(ctx, k.ServerRecord(name), fieldRev).Int64()
		if err != nil && !isNil(err) {
			return fmt.Errorf("migrate %s of tier %s: %w", name, t, err)
		}
		_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.SetNX(ctx, k.ServerValue(name), value, 0)
			p.HSetNX(ctx, k.ServerRecord(name), fieldValueRev, rev)
			return nil
		})
		if err != nil {
			return fmt.Errorf("migrate %s of tier %s: %w", name, t, err)
		}
		if err := r.rdb.HSet(ctx, k.Tier(t), name, rev).Err(); err != nil {
			return fmt.Errorf("migrate %s of tier %s: %w", name, t, err)
		}
	}
	if err := r.rdb.Del(ctx, k.LegacyTier(t)).Err(); err != nil {
		return fmt.Errorf("drop first-layout tier %s: %w", t, err)
	}
	return nil
}
