package registry

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Loaded reports whether user's registry is loaded (one round trip).
func (r *Registry) Loaded(ctx context.Context, user string) (bool, error) {
	n, err := r.rdb.Exists(ctx, r.keys.UserMembers(user)).Result()
	if err != nil {
		return false, fmt.Errorf("loaded mark of %s: %w", user, err)
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

// User reads a user's effective view in two round trips (docs/redis-layout.md,
// "How to read"): first the user's members hash and its TTL and both tiers,
// then the value of every server named there. A private member shows when its
// server has a value (not deleted) and no tier holds the name; on a name clash
// app beats user beats private.
func (r *Registry) User(ctx context.Context, user string) (UserView, error) {
	k := r.keys
	var pttl *redis.DurationCmd
	var members *redis.MapStringStringCmd
	tiers := make([]*redis.MapStringStringCmd, len(SharedTiers))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		pttl = p.PTTL(ctx, k.UserMembers(user))
		members = p.HGetAll(ctx, k.UserMembers(user))
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
	tierOf := map[string]Tier{}
	for i := len(SharedTiers) - 1; i >= 0; i-- { // lowest precedence first
		for name := range tiers[i].Val() {
			tierOf[name] = SharedTiers[i]
		}
	}
	var names []string
	for name := range tierOf {
		names = append(names, name)
	}
	for name, rev := range members.Val() {
		if name != LoadedField && isMember(rev) {
			if _, shared := tierOf[name]; !shared {
				names = append(names, name)
			}
		}
	}
	values, err := r.values(ctx, names)
	if err != nil {
		return UserView{}, fmt.Errorf("read registry of %s: %w", user, err)
	}
	for name, val := range values {
		if t, shared := tierOf[name]; shared {
			v.Effective[name] = EffectiveEntry{Tier: t, Config: val}
			continue
		}
		v.Private[name] = val
		v.Effective[name] = EffectiveEntry{Tier: TierPrivate, Config: val}
	}
	return v, nil
}

// values reads the value of each named server (one pipelined round trip; on
// Cluster go-redis sends each node its part at once). Servers without a value
// (deleted, or never given one) are left out.
func (r *Registry) values(ctx context.Context, names []string) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(names))
	if len(names) == 0 {
		return out, nil
	}
	cmds := make([]*redis.StringCmd, len(names))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range names {
			cmds[i] = p.Get(ctx, r.keys.ServerValue(name))
		}
		return nil
	})
	if err != nil && !isNil(err) {
		return nil, fmt.Errorf("read server values: %w", err)
	}
	for i, c := range cmds {
		if val, err := c.Result(); err == nil {
			out[names[i]] = json.RawMessage(val)
		}
	}
	return out, nil
}

// Lookup returns the server a user sees under name, with the same precedence
// as User: app, then user, then the private registry. One pipelined round trip.
func (r *Registry) Lookup(ctx context.Context, user, name string) (EffectiveEntry, bool, error) {
	k := r.keys
	inTier := make([]*redis.BoolCmd, len(SharedTiers))
	var member, value *redis.StringCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, t := range SharedTiers {
			inTier[i] = p.HExists(ctx, k.Tier(t), name)
		}
		member = p.HGet(ctx, k.UserMembers(user), name)
		value = p.Get(ctx, k.ServerValue(name))
		return nil
	})
	if err != nil && !isNil(err) {
		return EffectiveEntry{}, false, fmt.Errorf("lookup %s for %s: %w", name, user, err)
	}
	val, err := value.Result()
	if err != nil {
		return EffectiveEntry{}, false, nil
	}
	for i, c := range inTier {
		if c.Val() {
			return EffectiveEntry{Tier: SharedTiers[i], Config: json.RawMessage(val)}, true, nil
		}
	}
	if name != LoadedField && isMember(member.Val()) {
		return EffectiveEntry{Tier: TierPrivate, Config: json.RawMessage(val)}, true, nil
	}
	return EffectiveEntry{}, false, nil
}
