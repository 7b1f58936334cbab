package registry

import (
	"context"
	"fmt"

	"github.com/mcp-registry/worker/reader"
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
type EffectiveEntry = reader.Entry

// UserView is a user's registry as readers see it (`worker inspect user`).
type UserView = reader.View

// User reads a user's effective view with the public reader (two round
// trips, docs/redis-layout.md "How to read"); values as stored.
func (r *Registry) User(ctx context.Context, user string) (UserView, error) {
	return r.reader.Effective(ctx, user)
}

// Lookup returns the server a user sees under name, with the same precedence
// as User. One pipelined round trip.
func (r *Registry) Lookup(ctx context.Context, user, name string) (EffectiveEntry, bool, error) {
	return r.reader.Lookup(ctx, user, name)
}
