package registry_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

// put_tier returns 1 (applied) or 0 (a newer change was applied already);
// PutTier discards it, so the tiers show it.
func TestIntegrationPutTier(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	k := reg.Keys()
	steps := []struct {
		name      string
		tier      registry.Tier
		rev       int64
		wantApp   string // "" : absent
		wantUser  string
		wantRevOf string
	}{
		{"into app", registry.TierApp, 1, "1", "", "1"},
		{"moved to user", registry.TierUser, 2, "", "2", "2"},
		{"older refused (0)", registry.TierApp, 1, "", "2", "2"},
		{"same rev applies", registry.TierApp, 2, "2", "", "2"},
		{"back to user", registry.TierUser, 3, "", "3", "3"},
		{"removed from every tier", "", 4, "", "", "4"},
		{"older than the removal refused (0)", registry.TierUser, 3, "", "", "4"},
		{"added again", registry.TierUser, 5, "", "5", "5"},
		{"large revision", registry.TierApp, 1 << 40, "1099511627776", "", "1099511627776"},
	}
	for _, s := range steps {
		require.NoError(t, reg.PutTier(t.Context(), "srv", s.tier, s.rev), s.name)
		app, user := hgetAll(t, c, k.Tier(registry.TierApp)), hgetAll(t, c, k.Tier(registry.TierUser))
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
	require.NoError(t, reg.PutTier(t.Context(), "a", registry.TierApp, 1))
	require.NoError(t, reg.PutTier(t.Context(), "b", registry.TierUser, 9))
	require.NoError(t, reg.PutTier(t.Context(), "c", registry.TierApp, 2))
	require.NoError(t, reg.PutTier(t.Context(), "c", "", 3))
	assert.Equal(t, map[string]string{"a": "1"}, hgetAll(t, c, k.Tier(registry.TierApp)))
	assert.Equal(t, map[string]string{"b": "9"}, hgetAll(t, c, k.Tier(registry.TierUser)))
	assert.Equal(t, map[string]string{"a": "1", "b": "9", "c": "3"}, hgetAll(t, c, k.TierRevs()))
	assert.False(t, exists(t, c, k.ServerValue("a")), "a tier names servers; it writes no value")
}
