package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Loaded reports whether user's registry is loaded (one round trip).
func (r *Registry) Loaded(ctx context.Context, user string) (bool, error) {
	n, err := r.rdb.Exists(ctx, r.keys.UserLoaded(user)).Result()
	if err != nil {
		return false, fmt.Errorf("loaded flag of %s: %w", user, err)
	}
	return n == 1, nil
}

// EffectiveEntry is one server of a user's effective view and the tier it comes from.
type EffectiveEntry struct {
	Tier   Tier            `json:"tier"`
	Config json.RawMessage `json:"config"`
}

// UserView is a user's registry as readers see it (`worker inspect user`).
type UserView struct {
	UserID      string                     `json:"userId"`
	Loaded      bool                       `json:"loaded"`
	ExpiresInMs int64                      `json:"expiresInMs"`
	Private     map[string]json.RawMessage `json:"private"`
	Effective   map[string]EffectiveEntry  `json:"effective"`
}

// User reads user's private registry, loaded flag and the shared tiers in one
// pipelined round trip (two on Redis Cluster: the tiers live in their own
// slot) and merges the effective view: app beats user beats private.
func (r *Registry) User(ctx context.Context, user string) (UserView, error) {
	k := r.keys
	var pttl *redis.DurationCmd
	var private *redis.MapStringStringCmd
	tiers := make([]*redis.MapStringStringCmd, len(SharedTiers))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		pttl = p.PTTL(ctx, k.UserLoaded(user))
		private = p.HGetAll(ctx, k.UserRegistry(user))
		for i, t := range SharedTiers {
			tiers[i] = p.HGetAll(ctx, k.Tier(t))
		}
		return nil
	})
	if err != nil {
		return UserView{}, fmt.Errorf("read registry of %s: %w", user, err)
	}
	v := UserView{UserID: user, Private: map[string]json.RawMessage{}, Effective: map[string]EffectiveEntry{}}
	if d := pttl.Val(); d > 0 {
		v.Loaded, v.ExpiresInMs = true, d.Milliseconds()
	}
	for name, val := range private.Val() {
		v.Private[name] = json.RawMessage(val)
		v.Effective[name] = EffectiveEntry{Tier: TierPrivate, Config: json.RawMessage(val)}
	}
	// Lowest precedence first, so that higher tiers overwrite.
	for i := len(SharedTiers) - 1; i >= 0; i-- {
		for name, val := range tiers[i].Val() {
			v.Effective[name] = EffectiveEntry{Tier: SharedTiers[i], Config: json.RawMessage(val)}
		}
	}
	return v, nil
}

// Lookup returns the server a user sees under name, with the same precedence
// as User: app, then user, then the private registry. One pipelined round trip.
func (r *Registry) Lookup(ctx context.Context, user, name string) (EffectiveEntry, bool, error) {
	k := r.keys
	cmds := make([]*redis.StringCmd, 0, len(SharedTiers)+1)
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, t := range SharedTiers {
			cmds = append(cmds, p.HGet(ctx, k.Tier(t), name))
		}
		cmds = append(cmds, p.HGet(ctx, k.UserRegistry(user), name))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return EffectiveEntry{}, false, fmt.Errorf("lookup %s for %s: %w", name, user, err)
	}
	order := append(append([]Tier{}, SharedTiers...), TierPrivate)
	for i, c := range cmds {
		if val, err := c.Result(); err == nil {
			return EffectiveEntry{Tier: order[i], Config: json.RawMessage(val)}, true, nil
		}
	}
	return EffectiveEntry{}, false, nil
}
