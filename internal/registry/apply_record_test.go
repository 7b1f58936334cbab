package registry_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

// newServer returns a Registry and holds the lock of server "srv" with "tok".
func newServer(t *testing.T) (*registry.Registry, *redis.Client) {
	t.Helper()
	reg, c := newRegistry(t)
	holdLock(t, c, reg.Keys().ServerLock("srv"), "tok")
	return reg, c
}

func applyChange(t *testing.T, reg *registry.Registry, ch registry.Change) registry.ApplyResult {
	t.Helper()
	ch.Server = "srv"
	res, err := reg.ApplyChange(t.Context(), "tok", ch)
	require.NoError(t, err)
	return res
}

func TestIntegrationApplyChangeMask(t *testing.T) {
	t.Parallel()
	cfg := json.RawMessage(`{"url":"u"}`)
	tests := []struct {
		name   string
		change registry.Change
		want   registry.Aspects
	}{
		{"config", registry.Change{Config: cfg}, registry.AspectConfig},
		{"access", registry.Change{SetsAccess: true, Allowed: []string{"a"}}, registry.AspectAccess},
		{"scope", registry.Change{Scope: registry.ScopePublic}, registry.AspectScope},
		{"config+access", registry.Change{Config: cfg, SetsAccess: true}, registry.AspectConfig | registry.AspectAccess},
		{"config+scope", registry.Change{Config: cfg, Scope: registry.ScopePrivate}, registry.AspectConfig | registry.AspectScope},
		{"access+scope", registry.Change{SetsAccess: true, Allowed: []string{"a"}, Scope: registry.ScopeDeleted}, registry.AspectAccess | registry.AspectScope},
		{"all", registry.Change{Config: cfg, SetsAccess: true, Allowed: []string{"a"}, Scope: registry.ScopePublic}, 7},
		{"nothing", registry.Change{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, c := newServer(t)
			before := redisNowMs(t, c)
			tt.change.Version = 10
			res := applyChange(t, reg, tt.change)
			after := redisNowMs(t, c)
			assert.Equal(t, tt.want, res.Pending)
			rec := res.Record
			assert.Equal(t, tt.want, rec.Fanout)
			wantRev := int64(1)
			if tt.want == 0 {
				wantRev = 0
			}
			assert.Equal(t, wantRev, rec.Rev, "rev grows once per applied change")
			if tt.want.Has(registry.AspectConfig) {
				assert.JSONEq(t, string(cfg), string(rec.Config))
				assert.EqualValues(t, 10, rec.ConfigVersion)
			} else {
				assert.Empty(t, rec.Config)
				assert.Zero(t, rec.ConfigVersion)
			}
			if tt.want.Has(registry.AspectAccess) {
				assert.EqualValues(t, 10, rec.AccessVersion)
				assert.ElementsMatch(t, tt.change.Allowed, members(t, c, reg.Keys().ServerAllowed("srv")))
			} else {
				assert.Zero(t, rec.AccessVersion)
			}
			if tt.want.Has(registry.AspectScope) {
				assert.Equal(t, tt.change.Scope, rec.Scope)
				assert.EqualValues(t, 10, rec.ScopeVersion)
			} else {
				assert.Empty(t, rec.Scope)
			}
			if tt.want&(registry.AspectAccess|registry.AspectScope) != 0 {
				assert.GreaterOrEqual(t, rec.AccessChangedAtMs, before)
				assert.LessOrEqual(t, rec.AccessChangedAtMs, after)
			} else {
				assert.Zero(t, rec.AccessChangedAtMs, "a config change does not touch accessChangedAt")
			}
		})
	}
}

func TestIntegrationApplyChangeNewerOnly(t *testing.T) {
	t.Parallel()
	reg, c := newServer(t)
	allowed := reg.Keys().ServerAllowed("srv")

	res := applyChange(t, reg, registry.Change{Version: 10, Config: json.RawMessage(`{"v":10}`)})
	require.Equal(t, registry.AspectConfig, res.Pending)
	res = applyChange(t, reg, registry.Change{Version: 2, Scope: registry.ScopePrivate, SetsAccess: true, Allowed: []string{"a"}})
	require.Equal(t, registry.AspectConfig|registry.AspectAccess|registry.AspectScope, res.Pending, "unfinished config kept")
	require.EqualValues(t, 2, res.Record.Rev)
	require.NoError(t, reg.FinishFanout(t.Context(), "tok", "srv", ""))
	changedAt := res.Record.AccessChangedAtMs

	// Config is newer already; scope and access are older: only they apply.
	res = applyChange(t, reg, registry.Change{
		Version: 5, Config: json.RawMessage(`{"v":5}`), Scope: registry.ScopePublic,
		SetsAccess: true, Allowed: []string{"b", "c"},
	})
	assert.Equal(t, registry.AspectAccess|registry.AspectScope, res.Pending)
	assert.JSONEq(t, `{"v":10}`, string(res.Record.Config))
	assert.EqualValues(t, 10, res.Record.ConfigVersion)
	assert.Equal(t, registry.ScopePublic, res.Record.Scope)
	assert.EqualValues(t, 5, res.Record.ScopeVersion)
	assert.EqualValues(t, 5, res.Record.AccessVersion)
	assert.EqualValues(t, 3, res.Record.Rev)
	assert.GreaterOrEqual(t, res.Record.AccessChangedAtMs, changedAt)
	assert.EqualValues(t, 10, res.Record.Version())
	got := members(t, c, allowed)
	slices.Sort(got)
	assert.Equal(t, []string{"b", "c"}, got, "the allowed set is replaced, not merged")
	require.NoError(t, reg.FinishFanout(t.Context(), "tok", "srv", registry.TierApp))

	// A duplicate (same version) and a stale event change nothing.
	for _, v := range []int64{5, 4} {
		res = applyChange(t, reg, registry.Change{
			Version: v, Config: json.RawMessage(`{"v":0}`), Scope: registry.ScopeDeleted,
			SetsAccess: true, Allowed: []string{"z"},
		})
		assert.Zero(t, res.Pending, "version %d", v)
		assert.EqualValues(t, 3, res.Record.Rev, "version %d", v)
		assert.Equal(t, registry.ScopePublic, res.Record.Scope)
		assert.JSONEq(t, `{"v":10}`, string(res.Record.Config))
		assert.Zero(t, res.Record.Fanout)
	}
	got = members(t, c, allowed)
	slices.Sort(got)
	assert.Equal(t, []string{"b", "c"}, got)

	// Aspects are versioned independently: config moves on, scope stays.
	res = applyChange(t, reg, registry.Change{Version: 11, Config: json.RawMessage(`{"v":11}`)})
	assert.Equal(t, registry.AspectConfig, res.Pending)
	assert.EqualValues(t, 4, res.Record.Rev)
	assert.Equal(t, registry.TierApp, res.Record.Tier)
}

func TestIntegrationApplyChangeUnfinishedFanoutAccumulates(t *testing.T) {
	t.Parallel()
	reg, _ := newServer(t)
	res := applyChange(t, reg, registry.Change{Version: 1, Config: json.RawMessage(`{}`)})
	assert.Equal(t, registry.AspectConfig, res.Pending)
	res = applyChange(t, reg, registry.Change{Version: 2, SetsAccess: true})
	assert.Equal(t, registry.AspectConfig|registry.AspectAccess, res.Pending)
	res = applyChange(t, reg, registry.Change{Version: 1, Config: json.RawMessage(`{}`)})
	assert.Equal(t, registry.AspectConfig|registry.AspectAccess, res.Pending, "a redelivery finds the unfinished mask")
	assert.EqualValues(t, 2, res.Record.Rev, "a stale change does not bump rev")
	res = applyChange(t, reg, registry.Change{Version: 3, Scope: registry.ScopePublic})
	assert.Equal(t, registry.AspectConfig|registry.AspectAccess|registry.AspectScope, res.Pending)
	assert.Equal(t, res.Pending, res.Record.Fanout)

	require.NoError(t, reg.FinishFanout(t.Context(), "tok", "srv", registry.TierUser))
	res = applyChange(t, reg, registry.Change{Version: 3, Scope: registry.ScopePublic})
	assert.Zero(t, res.Pending)
	assert.Zero(t, res.Record.Fanout)
	assert.EqualValues(t, 3, res.Record.Rev)
}

func TestIntegrationApplyChangeEmptyAllowed(t *testing.T) {
	t.Parallel()
	reg, c := newServer(t)
	allowed := reg.Keys().ServerAllowed("srv")
	applyChange(t, reg, registry.Change{Version: 1, SetsAccess: true, Allowed: []string{"a", "b"}})
	require.Len(t, members(t, c, allowed), 2)
	res := applyChange(t, reg, registry.Change{Version: 2, SetsAccess: true})
	assert.Equal(t, registry.AspectAccess, res.Pending&registry.AspectAccess)
	assert.EqualValues(t, 2, res.Record.AccessVersion)
	assert.Empty(t, members(t, c, allowed))
	in, err := reg.AllowedAmong(t.Context(), "srv", []string{"a", "b"})
	require.NoError(t, err)
	assert.Equal(t, []bool{false, false}, in)
}

func TestIntegrationApplyChangeLargeAllowed(t *testing.T) {
	t.Parallel()
	reg, c := newServer(t)
	users := make([]string, 2500)
	for i := range users {
		users[i] = fmt.Sprintf("user-%05d", i)
	}
	res := applyChange(t, reg, registry.Change{Version: 1, SetsAccess: true, Allowed: users})
	assert.Equal(t, registry.AspectAccess, res.Pending)
	n, err := c.SCard(t.Context(), reg.Keys().ServerAllowed("srv")).Result()
	require.NoError(t, err)
	assert.EqualValues(t, len(users), n)
}

func TestIntegrationApplyChangeFenced(t *testing.T) {
	t.Parallel()
	for _, lock := range []string{"other", ""} {
		t.Run("lock="+lock, func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			k := reg.Keys()
			if lock != "" {
				holdLock(t, c, k.ServerLock("srv"), lock)
			}
			_, err := reg.ApplyChange(t.Context(), "tok", registry.Change{
				Server: "srv", Version: 1,
				Config: json.RawMessage(`{}`), Scope: registry.ScopePublic, SetsAccess: true, Allowed: []string{"a"},
			})
			require.ErrorIs(t, err, registry.ErrFenced)
			assert.False(t, exists(t, c, k.ServerRecord("srv")))
			assert.False(t, exists(t, c, k.ServerAllowed("srv")))
		})
	}
}

func TestIntegrationFinishFanout(t *testing.T) {
	t.Parallel()
	t.Run("done", func(t *testing.T) {
		t.Parallel()
		reg, _ := newServer(t)
		applyChange(t, reg, registry.Change{Version: 1, Scope: registry.ScopePublic, Config: json.RawMessage(`{}`)})
		require.NoError(t, reg.FinishFanout(t.Context(), "tok", "srv", registry.TierUser))
		rec, err := reg.Record(t.Context(), "srv")
		require.NoError(t, err)
		assert.Zero(t, rec.Fanout)
		assert.Equal(t, registry.TierUser, rec.Tier)

		applyChange(t, reg, registry.Change{Version: 2, Scope: registry.ScopePrivate})
		require.NoError(t, reg.FinishFanout(t.Context(), "tok", "srv", ""))
		rec, err = reg.Record(t.Context(), "srv")
		require.NoError(t, err)
		assert.Zero(t, rec.Fanout)
		assert.Empty(t, rec.Tier)
		assert.Equal(t, registry.ScopePrivate, rec.Scope)
		assert.EqualValues(t, 2, rec.Rev)
	})
	t.Run("fenced", func(t *testing.T) {
		t.Parallel()
		reg, c := newServer(t)
		applyChange(t, reg, registry.Change{Version: 1, Scope: registry.ScopePublic})
		require.NoError(t, reg.FinishFanout(t.Context(), "tok", "srv", registry.TierApp))
		applyChange(t, reg, registry.Change{Version: 2, Config: json.RawMessage(`{}`)})
		holdLock(t, c, reg.Keys().ServerLock("srv"), "other")
		err := reg.FinishFanout(t.Context(), "tok", "srv", registry.TierUser)
		require.ErrorIs(t, err, registry.ErrFenced)
		rec, err := reg.Record(t.Context(), "srv")
		require.NoError(t, err)
		assert.Equal(t, registry.AspectConfig, rec.Fanout, "mask kept")
		assert.Equal(t, registry.TierApp, rec.Tier, "tier kept")
	})
}
