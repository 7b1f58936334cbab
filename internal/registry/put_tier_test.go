package registry_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

func TestIntegrationPutTier(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	k := reg.Keys()
	tiers := func() (app, user map[string]string) {
		return hgetAll(t, c, k.Tier(registry.TierApp)), hgetAll(t, c, k.Tier(registry.TierUser))
	}
	steps := []struct {
		name      string
		tier      registry.Tier
		value     string
		rev       int64
		wantApp   string // "" : absent
		wantUser  string
		wantRevOf string
	}{
		{"into app", registry.TierApp, "v1", 1, "v1", "", "1"},
		{"moved to user", registry.TierUser, "v2", 2, "", "v2", "2"},
		{"older refused", registry.TierApp, "old", 1, "", "v2", "2"},
		{"same rev applies", registry.TierUser, "v2b", 2, "", "v2b", "2"},
		{"back to app", registry.TierApp, "v3", 3, "v3", "", "3"},
		{"removed from every tier", "", "", 4, "", "", "4"},
		{"older than the removal refused", registry.TierUser, "late", 3, "", "", "4"},
		{"added again", registry.TierUser, "v5", 5, "", "v5", "5"},
	}
	for _, s := range steps {
		require.NoError(t, reg.PutTier(t.Context(), "srv", s.tier, []byte(s.value), s.rev), s.name)
		app, user := tiers()
		assert.Equal(t, s.wantApp, app["srv"], s.name)
		assert.Equal(t, s.wantUser, user["srv"], s.name)
		_, inApp := app["srv"]
		_, inUser := user["srv"]
		assert.False(t, inApp && inUser, "%s: in one tier at most", s.name)
		assert.Equal(t, s.wantRevOf, hgetAll(t, c, k.TierRevs())["srv"], s.name)
	}
}

func TestIntegrationPutTierLeavesOtherServers(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	k := reg.Keys()
	require.NoError(t, reg.PutTier(t.Context(), "a", registry.TierApp, []byte("A"), 1))
	require.NoError(t, reg.PutTier(t.Context(), "b", registry.TierUser, []byte("B"), 9))
	require.NoError(t, reg.PutTier(t.Context(), "c", registry.TierApp, []byte("C"), 2))
	require.NoError(t, reg.PutTier(t.Context(), "c", "", nil, 3))
	assert.Equal(t, map[string]string{"a": "A"}, hgetAll(t, c, k.Tier(registry.TierApp)))
	assert.Equal(t, map[string]string{"b": "B"}, hgetAll(t, c, k.Tier(registry.TierUser)))
	assert.Equal(t, map[string]string{"a": "1", "b": "9", "c": "3"}, hgetAll(t, c, k.TierRevs()))
}
