package registry_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

// seedPrecedence puts "all" in both tiers and u1's registry, "user" in the
// user tier and the registry, "private" in the registry only, "apponly" in app.
func seedPrecedence(t *testing.T, reg *registry.Registry) {
	t.Helper()
	ctx := t.Context()
	require.NoError(t, reg.PutTier(ctx, "all", registry.TierApp, []byte(`"app-all"`), 1))
	require.NoError(t, reg.Client().HSet(ctx, reg.Keys().Tier(registry.TierUser), "all", `"user-all"`).Err())
	require.NoError(t, reg.PutTier(ctx, "user", registry.TierUser, []byte(`"user-user"`), 1))
	require.NoError(t, reg.PutTier(ctx, "apponly", registry.TierApp, []byte(`"app-apponly"`), 1))
}

func TestIntegrationUser(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	seedPrecedence(t, reg)
	loadUser(t, reg, c, "u1",
		registry.Entry{Name: "all", Value: []byte(`"p-all"`), Rev: 1},
		registry.Entry{Name: "user", Value: []byte(`"p-user"`), Rev: 1},
		registry.Entry{Name: "private", Value: []byte(`"p-private"`), Rev: 1})

	v, err := reg.User(t.Context(), "u1")
	require.NoError(t, err)
	assert.Equal(t, "u1", v.UserID)
	assert.True(t, v.Loaded)
	assert.Greater(t, v.ExpiresInMs, (testCacheTTL - time.Minute).Milliseconds())
	assert.LessOrEqual(t, v.ExpiresInMs, testCacheTTL.Milliseconds())
	assert.Equal(t, map[string]json.RawMessage{
		"all": json.RawMessage(`"p-all"`), "user": json.RawMessage(`"p-user"`),
		"private": json.RawMessage(`"p-private"`),
	}, v.Private)
	assert.Equal(t, map[string]registry.EffectiveEntry{
		"all":     {Tier: registry.TierApp, Config: json.RawMessage(`"app-all"`)},
		"user":    {Tier: registry.TierUser, Config: json.RawMessage(`"user-user"`)},
		"private": {Tier: registry.TierPrivate, Config: json.RawMessage(`"p-private"`)},
		"apponly": {Tier: registry.TierApp, Config: json.RawMessage(`"app-apponly"`)},
	}, v.Effective)

	require.NoError(t, c.PExpire(t.Context(), reg.Keys().UserLoaded("u1"), 90*time.Second).Err())
	v, err = reg.User(t.Context(), "u1")
	require.NoError(t, err)
	assert.InDelta(t, 90000, v.ExpiresInMs, 5000)
}

func TestIntegrationUserNotLoaded(t *testing.T) {
	t.Parallel()
	reg, _ := newRegistry(t)
	seedPrecedence(t, reg)
	v, err := reg.User(t.Context(), "nobody")
	require.NoError(t, err)
	assert.False(t, v.Loaded)
	assert.Zero(t, v.ExpiresInMs)
	assert.NotNil(t, v.Private)
	assert.Empty(t, v.Private)
	assert.Len(t, v.Effective, 3, "shared tiers only")
	b, err := json.Marshal(v)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"private":{}`)
	loaded, err := reg.Loaded(t.Context(), "nobody")
	require.NoError(t, err)
	assert.False(t, loaded)
}

func TestIntegrationLookup(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	seedPrecedence(t, reg)
	loadUser(t, reg, c, "u1",
		registry.Entry{Name: "all", Value: []byte(`"p-all"`), Rev: 1},
		registry.Entry{Name: "user", Value: []byte(`"p-user"`), Rev: 1},
		registry.Entry{Name: "private", Value: []byte(`"p-private"`), Rev: 1})
	tests := []struct {
		user, name string
		found      bool
		want       registry.EffectiveEntry
	}{
		{"u1", "all", true, registry.EffectiveEntry{Tier: registry.TierApp, Config: json.RawMessage(`"app-all"`)}},
		{"u1", "user", true, registry.EffectiveEntry{Tier: registry.TierUser, Config: json.RawMessage(`"user-user"`)}},
		{"u1", "private", true, registry.EffectiveEntry{Tier: registry.TierPrivate, Config: json.RawMessage(`"p-private"`)}},
		{"u1", "apponly", true, registry.EffectiveEntry{Tier: registry.TierApp, Config: json.RawMessage(`"app-apponly"`)}},
		{"u1", "missing", false, registry.EffectiveEntry{}},
		{"u2", "private", false, registry.EffectiveEntry{}},
		{"u2", "user", true, registry.EffectiveEntry{Tier: registry.TierUser, Config: json.RawMessage(`"user-user"`)}},
	}
	for _, tt := range tests {
		t.Run(tt.user+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			got, found, err := reg.Lookup(t.Context(), tt.user, tt.name)
			require.NoError(t, err)
			assert.Equal(t, tt.found, found)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestIntegrationServer(t *testing.T) {
	t.Parallel()
	app := registry.TierApp
	change := func(t *testing.T, reg *registry.Registry, ch registry.Change, tier registry.Tier) {
		t.Helper()
		holdLock(t, reg.Client().(*redis.Client), reg.Keys().ServerLock("srv"), "tok")
		ch.Server = "srv"
		_, err := reg.ApplyChange(t.Context(), "tok", ch)
		require.NoError(t, err)
		require.NoError(t, reg.FinishFanout(t.Context(), "tok", "srv", tier))
	}
	cache := func(t *testing.T, reg *registry.Registry, users ...string) {
		t.Helper()
		c := reg.Client().(*redis.Client)
		for _, u := range users {
			loadUser(t, reg, c, u, registry.Entry{Name: "srv", Value: []byte("v"), Rev: 1})
			require.NoError(t, c.SAdd(t.Context(), reg.Keys().ServerCachedBy("srv"), u).Err())
		}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, reg *registry.Registry)
		want  registry.ServerView
	}{
		{"unknown", func(*testing.T, *registry.Registry) {}, registry.ServerView{Scope: "unknown"}},
		{"reverse index only, nobody holds it", func(t *testing.T, reg *registry.Registry) {
			c := reg.Client().(*redis.Client)
			loadUser(t, reg, c, "u1", registry.Entry{Name: "other", Value: []byte("v"), Rev: 1})
			require.NoError(t, c.SAdd(t.Context(), reg.Keys().ServerCachedBy("srv"), "u1", "gone").Err())
		}, registry.ServerView{Scope: "unknown"}},
		{"private from a dbId", func(t *testing.T, reg *registry.Registry) {
			_, err := reg.ClaimServers(t.Context(), "u1", []registry.Claim{{Name: "srv", DBID: "id"}})
			require.NoError(t, err)
		}, registry.ServerView{Scope: "private"}},
		{"private from a cache", func(t *testing.T, reg *registry.Registry) {
			cache(t, reg, "u1")
		}, registry.ServerView{Scope: "private", CachedFor: []string{"u1"}}},
		{"private scope hides a tier", func(t *testing.T, reg *registry.Registry) {
			change(t, reg, registry.Change{Version: 3, Scope: registry.ScopePrivate}, registry.TierApp)
		}, registry.ServerView{Scope: "private", Version: 3}},
		{"public with tier", func(t *testing.T, reg *registry.Registry) {
			change(t, reg, registry.Change{Version: 7, Config: json.RawMessage(`{}`)}, "")
			change(t, reg, registry.Change{Version: 4, Scope: registry.ScopePublic}, registry.TierApp)
		}, registry.ServerView{Scope: "public", Tier: &app, Version: 7}},
		{"public before its tier is known", func(t *testing.T, reg *registry.Registry) {
			change(t, reg, registry.Change{Version: 2, Scope: registry.ScopePublic}, "")
		}, registry.ServerView{Scope: "public", Version: 2}},
		{"deleted", func(t *testing.T, reg *registry.Registry) {
			change(t, reg, registry.Change{Version: 1, Scope: registry.ScopePublic}, registry.TierUser)
			holdLock(t, reg.Client().(*redis.Client), reg.Keys().ServerLock("srv"), "tok")
			_, err := reg.ApplyChange(t.Context(), "tok", registry.Change{Server: "srv", Version: 5, Scope: registry.ScopeDeleted})
			require.NoError(t, err)
		}, registry.ServerView{Scope: "deleted", Version: 5}},
		{"cachedFor filtered and sorted", func(t *testing.T, reg *registry.Registry) {
			change(t, reg, registry.Change{Version: 1, Scope: registry.ScopePrivate, SetsAccess: true}, "")
			cache(t, reg, "carol", "alice", "bob")
			c := reg.Client().(*redis.Client)
			require.NoError(t, c.SAdd(t.Context(), reg.Keys().ServerCachedBy("srv"), "expired", "dropped").Err())
			loadUser(t, reg, c, "dropped", registry.Entry{Name: "other", Value: []byte("v"), Rev: 1})
			require.NoError(t, reg.Invalidate(t.Context(), "bob"))
		}, registry.ServerView{Scope: "private", Version: 1, CachedFor: []string{"alice", "carol"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, _ := newRegistry(t)
			tt.setup(t, reg)
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
