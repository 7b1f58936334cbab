package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

// roundTrips is a go-redis hook counting round trips: one per command call,
// one per pipeline. Commands go-redis sends itself on a new connection are
// not counted.
type roundTrips struct{ n atomic.Int64 }

var _ redis.Hook = (*roundTrips)(nil)

func connSetup(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "client", "auth", "select", "readonly":
		return true
	}
	return false
}

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !connSetup(cmd) {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if !connSetup(cmd) {
				h.n.Add(1)
				break
			}
		}
		return next(ctx, cmds)
	}
}

// valueOf is the value a server got from createServer.
func valueOf(t *testing.T, c redis.UniversalClient, reg *registry.Registry, name string) json.RawMessage {
	t.Helper()
	v := get(t, c, reg.Keys().ServerValue(name))
	require.NotEmpty(t, v, "value of %s", name)
	return json.RawMessage(v)
}

// readWorld is a user u1 with 20 private servers and 10 shared ones, plus the
// cases readers must resolve: a deleted private server, a tombstone, names in
// a tier and private, and a name (wrongly) in both tiers.
type readWorld struct {
	private, shared []string
	want            map[string]registry.EffectiveEntry
}

func seedReadWorld(t *testing.T, reg *registry.Registry, c redis.UniversalClient) readWorld {
	t.Helper()
	w := readWorld{want: map[string]registry.EffectiveEntry{}}
	var entries []registry.Entry
	for i := range 20 {
		name := fmt.Sprintf("p%02d", i)
		rec := createServer(t, reg, c, name, 1, registry.ScopePrivate, fmt.Sprintf(`{"url":"https://p/%d"}`, i), "u1")
		entries = append(entries, registry.Entry{Name: name, Rev: rec.Rev})
		w.private = append(w.private, name)
	}
	for i := range 10 {
		name, cfg := fmt.Sprintf("s%d", i), fmt.Sprintf(`{"url":"https://s/%d"}`, i)
		if i%2 == 1 {
			cfg = fmt.Sprintf(`{"url":"https://s/%d","requiresOAuth":true}`, i)
		}
		createServer(t, reg, c, name, 1, registry.ScopePublic, cfg)
		w.shared = append(w.shared, name)
	}
	// "gone" is held but deleted (no value); "tomb" has a value but u1's entry is a tombstone.
	gone := createServer(t, reg, c, "gone", 1, registry.ScopePrivate, `{"url":"g"}`, "u1")
	change(t, reg, c, registry.Change{Server: "gone", Version: 2, Scope: registry.ScopeDeleted})
	tomb := createServer(t, reg, c, "tomb", 1, registry.ScopePrivate, `{"url":"t"}`, "u1")
	entries = append(entries, registry.Entry{Name: "gone", Rev: gone.Rev}, registry.Entry{Name: "tomb", Rev: tomb.Rev})
	// A server first private to u1, then shared: the tier wins.
	createServer(t, reg, c, "clash-app", 1, registry.ScopePrivate, `{"url":"ca"}`, "u1")
	createServer(t, reg, c, "clash-user", 1, registry.ScopePrivate, `{"url":"cu","startup":false}`, "u1")
	entries = append(entries, registry.Entry{Name: "clash-app", Rev: 1}, registry.Entry{Name: "clash-user", Rev: 1})
	loadUser(t, reg, c, "u1", entries...)
	for _, name := range []string{"clash-app", "clash-user"} {
		res := change(t, reg, c, registry.Change{Server: name, Version: 2, Scope: registry.ScopePublic})
		require.NoError(t, reg.PutTier(t.Context(), name, registry.TierFor(res.Record.Config), res.Record.Rev))
	}
	res, err := reg.ApplyToUsers(t.Context(), "tomb", tomb.Rev+1, registry.OpDelete, []string{"u1"})
	require.NoError(t, err)
	require.Equal(t, []registry.UserResult{registry.ResultApplied}, res)
	// "both" sits in both tiers (put_tier never does that; readers still pick app).
	createServer(t, reg, c, "both", 1, registry.ScopePublic, `{"url":"b"}`)
	require.NoError(t, c.HSet(t.Context(), reg.Keys().Tier(registry.TierUser), "both", "1").Err())
	// Even a value under the reserved name must not make the loaded mark a server.
	require.NoError(t, c.Set(t.Context(), reg.Keys().ServerValue(registry.LoadedField), `{"not":"a server"}`, 0).Err())

	for _, name := range w.private {
		w.want[name] = registry.EffectiveEntry{Tier: registry.TierPrivate, Config: valueOf(t, c, reg, name)}
	}
	for _, name := range append(w.shared, "clash-app", "clash-user", "both") {
		w.want[name] = registry.EffectiveEntry{Tier: registry.TierFor(valueOf(t, c, reg, name)), Config: valueOf(t, c, reg, name)}
	}
	require.Equal(t, registry.TierApp, w.want["clash-app"].Tier)
	require.Equal(t, registry.TierUser, w.want["clash-user"].Tier)
	require.Equal(t, registry.TierApp, w.want["both"].Tier)
	return w
}

func TestIntegrationUser(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	w := seedReadWorld(t, reg, c)
	hook := &roundTrips{}
	c.AddHook(hook)

	v, err := reg.User(t.Context(), "u1")
	require.NoError(t, err)
	assert.LessOrEqual(t, hook.n.Load(), int64(2), "two round trips at most")
	assert.Equal(t, "u1", v.UserID)
	assert.True(t, v.Loaded)
	assert.Greater(t, v.ExpiresInMs, (testCacheTTL - time.Minute).Milliseconds())
	assert.LessOrEqual(t, v.ExpiresInMs, testCacheTTL.Milliseconds())
	assert.Equal(t, w.want, v.Effective)
	for _, name := range w.private {
		assert.Equal(t, w.want[name].Config, v.Private[name], name)
	}
	for _, name := range append(w.shared, "gone", "tomb", "both", registry.LoadedField) {
		assert.NotContains(t, v.Private, name)
	}
	assert.NotContains(t, v.Effective, "gone", "a deleted server is hidden")
	assert.NotContains(t, v.Effective, "tomb", "a tombstone is not a member")
	assert.NotContains(t, v.Effective, registry.LoadedField)

	require.NoError(t, c.PExpire(t.Context(), reg.Keys().UserMembers("u1"), 90*time.Second).Err())
	v, err = reg.User(t.Context(), "u1")
	require.NoError(t, err)
	assert.InDelta(t, 90000, v.ExpiresInMs, 5000)
}

func TestIntegrationUserNotLoaded(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	createServer(t, reg, c, "a", 1, registry.ScopePublic, `{}`)
	createServer(t, reg, c, "u", 1, registry.ScopePublic, `{"startup":false}`)
	createServer(t, reg, c, "p", 1, registry.ScopePrivate, `{}`, "nobody")
	hook := &roundTrips{}
	c.AddHook(hook)
	v, err := reg.User(t.Context(), "nobody")
	require.NoError(t, err)
	assert.LessOrEqual(t, hook.n.Load(), int64(2))
	assert.False(t, v.Loaded)
	assert.Zero(t, v.ExpiresInMs)
	assert.NotNil(t, v.Private)
	assert.Empty(t, v.Private)
	// Not loaded: the user's tenant is unknown, so not even the shared
	// tiers are shown (they may be another tenant's).
	assert.Empty(t, v.Effective, "nothing before a load")
	b, err := json.Marshal(v)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"private":{}`)
	loaded, err := reg.Loaded(t.Context(), "nobody")
	require.NoError(t, err)
	assert.False(t, loaded)
}

func TestIntegrationUserNothingAnywhere(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	loadUser(t, reg, c, "u1")
	v, err := reg.User(t.Context(), "u1")
	require.NoError(t, err)
	assert.True(t, v.Loaded, "loaded with zero servers")
	assert.Empty(t, v.Private)
	assert.Empty(t, v.Effective)
}

func TestIntegrationLookup(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	w := seedReadWorld(t, reg, c)
	tests := []struct {
		user, name string
		found      bool
	}{
		{"u1", "p00", true},
		{"u1", "p19", true},
		{"u1", "s0", true},
		{"u1", "s1", true},
		{"u1", "clash-app", true},
		{"u1", "clash-user", true},
		{"u1", "both", true},
		{"u1", "gone", false},
		{"u1", "tomb", false},
		{"u1", "missing", false},
		{"u1", registry.LoadedField, false},
		{"u2", "p00", false},
		{"u2", "s1", false}, // u2 is not loaded: nothing, shared servers included
	}
	for _, tt := range tests {
		t.Run(tt.user+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			got, found, err := reg.Lookup(t.Context(), tt.user, tt.name)
			require.NoError(t, err)
			assert.Equal(t, tt.found, found)
			if tt.found {
				assert.Equal(t, w.want[tt.name], got)
			} else {
				assert.Empty(t, got)
			}
		})
	}
}

func TestIntegrationServer(t *testing.T) {
	t.Parallel()
	app := registry.TierApp
	claim := func(t *testing.T, reg *registry.Registry, c redis.UniversalClient, rev int64, users ...string) {
		t.Helper()
		for _, u := range users {
			_, err := reg.ClaimServers(t.Context(), u, []string{"srv"}, 0)
			require.NoError(t, err)
			loadUser(t, reg, c, u, registry.Entry{Name: "srv", Rev: rev})
		}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, reg *registry.Registry, c redis.UniversalClient)
		want  registry.ServerView
	}{
		{"unknown", func(*testing.T, *registry.Registry, redis.UniversalClient) {}, registry.ServerView{Scope: "unknown"}},
		{"holders only, nobody holds it", func(t *testing.T, reg *registry.Registry, c redis.UniversalClient) {
			_, err := reg.ClaimServers(t.Context(), "u1", []string{"srv"}, 0)
			require.NoError(t, err)
			loadUser(t, reg, c, "u1", registry.Entry{Name: "other", Rev: 1})
		}, registry.ServerView{Scope: "unknown"}},
		{"private, held by allowed users and holders, sorted", func(t *testing.T, reg *registry.Registry, c redis.UniversalClient) {
			rec := createServer(t, reg, c, "srv", 1, registry.ScopePrivate, `{}`, "carol", "alice", "bob", "dave")
			claim(t, reg, c, rec.Rev, "carol", "alice", "bob", "erin")
			require.NoError(t, reg.Invalidate(t.Context(), "bob"))
			loadUser(t, reg, c, "dave", registry.Entry{Name: "other", Rev: 1})
			res, err := reg.ApplyToUsers(t.Context(), "srv", rec.Rev+1, registry.OpDelete, []string{"carol"})
			require.NoError(t, err)
			require.Equal(t, []registry.UserResult{registry.ResultApplied}, res)
			// erin holds it (claimed at login) without being in the allowed set any more.
		}, registry.ServerView{Scope: "private", Version: 1, CachedFor: []string{"alice", "erin"}}},
		{"public with tier", func(t *testing.T, reg *registry.Registry, c redis.UniversalClient) {
			createServer(t, reg, c, "srv", 7, registry.ScopePublic, `{}`)
			claim(t, reg, c, 1, "u1")
		}, registry.ServerView{Scope: "public", Tier: &app, Version: 7}},
		{"public before its tier is known", func(t *testing.T, reg *registry.Registry, c redis.UniversalClient) {
			change(t, reg, c, registry.Change{Server: "srv", Version: 2, Scope: registry.ScopePublic})
		}, registry.ServerView{Scope: "public", Version: 2}},
		{"deleted", func(t *testing.T, reg *registry.Registry, c redis.UniversalClient) {
			rec := createServer(t, reg, c, "srv", 1, registry.ScopePrivate, `{}`, "u1")
			claim(t, reg, c, rec.Rev, "u1")
			change(t, reg, c, registry.Change{Server: "srv", Version: 5, Scope: registry.ScopeDeleted})
		}, registry.ServerView{Scope: "deleted", Version: 5}},
		{"private from a dbId", func(t *testing.T, reg *registry.Registry, _ redis.UniversalClient) {
			require.NoError(t, reg.AdoptValues(t.Context(), []registry.Adoption{{Server: "srv", Config: []byte(`{}`), DBID: "id"}}))
		}, registry.ServerView{Scope: "private"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			tt.setup(t, reg, c)
			got, err := reg.Server(t.Context(), "srv")
			require.NoError(t, err)
			want := tt.want
			want.ServerName = "srv"
			if want.CachedFor == nil {
				want.CachedFor = []string{}
			}
			assert.Equal(t, want, got)
			b, err := json.Marshal(got)
			require.NoError(t, err)
			assert.Contains(t, string(b), `"cachedFor":[`, "cachedFor is a list, never null")
		})
	}
}
