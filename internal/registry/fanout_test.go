package registry_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

func TestIntegrationEachMember(t *testing.T) {
	t.Parallel()
	for _, set := range []registry.ServerSet{registry.SetCachedBy, registry.SetAllowed} {
		t.Run(string(set), func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			k := reg.Keys()
			key, other := k.ServerCachedBy("srv"), k.ServerAllowed("srv")
			if set == registry.SetAllowed {
				key, other = other, key
			}
			const count = 2000
			want := make([]any, count)
			for i := range want {
				want[i] = fmt.Sprintf("user-%04d", i)
			}
			require.NoError(t, c.SAdd(t.Context(), key, want...).Err())
			require.NoError(t, c.SAdd(t.Context(), other, "not-in-this-set").Err())

			seen := map[string]int{}
			chunks := 0
			err := reg.EachMember(t.Context(), "srv", set, func(users []string) error {
				chunks++
				assert.NotEmpty(t, users)
				assert.LessOrEqual(t, len(users), 2*registry.FanoutChunk, "chunk bounded")
				for _, u := range users {
					seen[u]++
				}
				return nil
			})
			require.NoError(t, err)
			assert.GreaterOrEqual(t, chunks, count/(2*registry.FanoutChunk), "walked in chunks")
			assert.Greater(t, chunks, 1)
			assert.Len(t, seen, count)
			for u, n := range seen {
				assert.Equal(t, 1, n, u)
			}
			assert.NotContains(t, seen, "not-in-this-set")
		})
	}
}

func TestIntegrationEachMemberEmptyAndError(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	calls := 0
	require.NoError(t, reg.EachMember(t.Context(), "srv", registry.SetCachedBy, func([]string) error {
		calls++
		return nil
	}))
	assert.Zero(t, calls, "an empty set calls fn never")

	require.NoError(t, c.SAdd(t.Context(), reg.Keys().ServerCachedBy("srv"), "a", "b").Err())
	boom := errors.New("boom")
	err := reg.EachMember(t.Context(), "srv", registry.SetCachedBy, func([]string) error { return boom })
	assert.ErrorIs(t, err, boom)
}

func TestIntegrationAllowedAmong(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	require.NoError(t, c.SAdd(t.Context(), reg.Keys().ServerAllowed("srv"), "a", "c").Err())
	in, err := reg.AllowedAmong(t.Context(), "srv", []string{"a", "b", "c", "d"})
	require.NoError(t, err)
	assert.Equal(t, []bool{true, false, true, false}, in)
	in, err = reg.AllowedAmong(t.Context(), "unknown", []string{"a"})
	require.NoError(t, err)
	assert.Equal(t, []bool{false}, in)
}

func TestIntegrationPruneCachedBy(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	k := reg.Keys()
	loadUser(t, reg, c, "loaded", registry.Entry{Name: "srv", Value: []byte("v"), Rev: 1})
	beginLoad(t, reg, c, "loading", "tok")
	loadUser(t, reg, c, "loaded-not-indexed")
	require.NoError(t, c.SAdd(t.Context(), k.ServerCachedBy("srv"), "loaded", "loading", "idle", "expired", "untouched").Err())
	loadUser(t, reg, c, "expired")
	require.NoError(t, c.Del(t.Context(), k.UserLoaded("expired")).Err())

	err := reg.PruneCachedBy(t.Context(), "srv", []string{"loaded", "loading", "idle", "expired", "loaded-not-indexed"})
	require.NoError(t, err)
	got := members(t, c, k.ServerCachedBy("srv"))
	slices.Sort(got)
	assert.Equal(t, []string{"loaded", "loaded-not-indexed", "loading", "untouched"}, got,
		"idle users removed; loaded or loading users kept or added back; users not passed untouched")
	require.NoError(t, reg.PruneCachedBy(t.Context(), "srv", nil))
}

func TestIntegrationClaimServers(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	k := reg.Keys()
	holdLock(t, c, k.ServerLock("known"), "tok")
	_, err := reg.ApplyChange(t.Context(), "tok", registry.Change{
		Server: "known", Version: 4, Scope: registry.ScopePrivate,
		SetsAccess: true, Allowed: []string{"u1"},
	})
	require.NoError(t, err)

	states, err := reg.ClaimServers(t.Context(), "u1", []registry.Claim{{Name: "known", DBID: "id1"}, {Name: "new"}})
	require.NoError(t, err)
	require.Len(t, states, 2)
	assert.Equal(t, "known", states[0].Name)
	assert.Equal(t, "id1", states[0].DBID)
	assert.Equal(t, registry.ScopePrivate, states[0].Scope)
	assert.EqualValues(t, 4, states[0].AccessVersion)
	assert.True(t, states[0].Allowed)
	assert.Equal(t, registry.ServerState{Record: registry.Record{Name: "new"}}, states[1])
	assert.Equal(t, []string{"u1"}, members(t, c, k.ServerCachedBy("known")))
	assert.Equal(t, []string{"u1"}, members(t, c, k.ServerCachedBy("new")))
	assert.False(t, exists(t, c, k.ServerRecord("new")), "no record written without a dbId")

	states, err = reg.ClaimServers(t.Context(), "u2", []registry.Claim{{Name: "known"}})
	require.NoError(t, err)
	assert.False(t, states[0].Allowed)
	assert.Equal(t, "id1", states[0].DBID, "dbId kept")

	states, err = reg.ClaimServers(t.Context(), "u2", nil)
	require.NoError(t, err)
	assert.Empty(t, states)
}
