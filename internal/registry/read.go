package registry

import (
	"context"
	"fmt"

	"github.com/mcp-registry/worker/reader"
)

// Loaded reports whether user's registry is loaded: one EXISTS, which
// concurrent callers share a pipeline for (existsBatcher), so it costs at
// most one round trip and under a burst of warm logins far less.
func (r *Registry) Loaded(ctx context.Context, user string) (bool, error) {
	ok, err := r.loaded.exists(ctx, r.keys.UserMembers(user))
	if err != nil {
		return false, fmt.Errorf("loaded mark of %s: %w", user, err)
	}
	return ok, nil
}

// The loaded-mark batcher's limits: pipelines in flight at once, and
// questions per pipeline.
const (
	loadedPipelines = 2
	loadedBatch     = 256
)

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
