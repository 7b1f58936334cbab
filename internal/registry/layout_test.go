package registry_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

func TestIntegrationEnsureLayoutMigratesFirstLayout(t *testing.T) {
	t.Parallel()
	for _, stored := range []string{"", "1"} {
		t.Run("layout="+stored, func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			k := reg.Keys()
			ctx := t.Context()
			appValue := `{"dbId":"id-gh","lastUpdatedAt":5,"url":"https://gh"}`
			userValue := `{"lastUpdatedAt":6,"requiresOAuth":true,"url":"https://oauth"}`
			require.NoError(t, c.HSet(ctx, k.LegacyTier(registry.TierApp), "github", appValue).Err())
			require.NoError(t, c.HSet(ctx, k.LegacyTier(registry.TierUser), "oauth:{x}", userValue).Err())
			require.NoError(t, c.HSet(ctx, k.ServerRecord("github"),
				"scope", "public", "tier", "app", "rev", "3", "cfgVersion", "5", "config", `{"url":"https://gh"}`).Err())
			require.NoError(t, c.HSet(ctx, k.TierRevs(), "github", "3").Err())
			if stored != "" {
				require.NoError(t, c.Set(ctx, k.Layout(), stored, 0).Err())
			}

			require.NoError(t, reg.EnsureLayout(ctx))

			assert.Equal(t, appValue, get(t, c, k.ServerValue("github")), "the tier's value becomes the server's value")
			assert.Equal(t, map[string]string{"github": "3"}, hgetAll(t, c, k.Tier(registry.TierApp)), "the tier names the server at its revision")
			assert.Equal(t, userValue, get(t, c, k.ServerValue("oauth:{x}")))
			assert.Equal(t, map[string]string{"oauth:{x}": "0"}, hgetAll(t, c, k.Tier(registry.TierUser)), "no record: revision 0")
			assert.False(t, exists(t, c, k.LegacyTier(registry.TierApp)), "legacy tier deleted")
			assert.False(t, exists(t, c, k.LegacyTier(registry.TierUser)))
			assert.Equal(t, "2", get(t, c, k.Layout()))
			rec, err := reg.Record(ctx, "github")
			require.NoError(t, err)
			assert.True(t, rec.HasValue)
			assert.EqualValues(t, 3, rec.Rev)
			assert.EqualValues(t, 5, rec.ConfigVersion)

			// Readers (of a loaded user) see the migrated tiers.
			loadUser(t, reg, c, "anyone")
			v, err := reg.User(ctx, "anyone")
			require.NoError(t, err)
			assert.Equal(t, map[string]registry.EffectiveEntry{
				"github":    {Tier: registry.TierApp, Config: []byte(appValue)},
				"oauth:{x}": {Tier: registry.TierUser, Config: []byte(userValue)},
			}, v.Effective)

			// A second call is a no-op, even if first-layout keys show up again.
			require.NoError(t, c.HSet(ctx, k.LegacyTier(registry.TierApp), "late", `{}`).Err())
			require.NoError(t, c.Set(ctx, k.ServerValue("github"), "changed since", 0).Err())
			require.NoError(t, reg.EnsureLayout(ctx))
			assert.Equal(t, map[string]string{"late": `{}`}, hgetAll(t, c, k.LegacyTier(registry.TierApp)))
			assert.Equal(t, map[string]string{"github": "3"}, hgetAll(t, c, k.Tier(registry.TierApp)))
			assert.Equal(t, "changed since", get(t, c, k.ServerValue("github")))
			assert.False(t, exists(t, c, k.ServerValue("late")))
			assert.Equal(t, "2", get(t, c, k.Layout()))
		})
	}
}

// A value the second layout already wrote is not replaced by the legacy one
// (a worker of layout 2 may have run between two starts).
func TestIntegrationEnsureLayoutKeepsNewerValues(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	k := reg.Keys()
	ctx := t.Context()
	require.NoError(t, c.HSet(ctx, k.LegacyTier(registry.TierApp), "s", `{"old":1}`).Err())
	require.NoError(t, c.HSet(ctx, k.ServerRecord("s"), "rev", "4", "valRev", "4").Err())
	require.NoError(t, c.Set(ctx, k.ServerValue("s"), `{"new":1}`, 0).Err())
	require.NoError(t, reg.EnsureLayout(ctx))
	assert.Equal(t, `{"new":1}`, get(t, c, k.ServerValue("s")))
	assert.Equal(t, "4", hgetAll(t, c, k.ServerRecord("s"))["valRev"])
	assert.Equal(t, map[string]string{"s": "4"}, hgetAll(t, c, k.Tier(registry.TierApp)))
}

func TestIntegrationEnsureLayoutEmptyPrefix(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	require.NoError(t, reg.EnsureLayout(t.Context()))
	assert.Equal(t, "2", get(t, c, reg.Keys().Layout()))
	assert.False(t, exists(t, c, reg.Keys().Tier(registry.TierApp)))
}

func TestIntegrationEnsureLayoutUnknown(t *testing.T) {
	t.Parallel()
	for _, stored := range []string{"3", "10", "two"} {
		t.Run(stored, func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			k := reg.Keys()
			require.NoError(t, c.Set(t.Context(), k.Layout(), stored, 0).Err())
			require.NoError(t, c.HSet(t.Context(), k.LegacyTier(registry.TierApp), "s", `{}`).Err())
			err := reg.EnsureLayout(t.Context())
			require.ErrorIs(t, err, registry.ErrLayout)
			assert.Equal(t, stored, get(t, c, k.Layout()), "left as it is")
			assert.True(t, exists(t, c, k.LegacyTier(registry.TierApp)), "nothing migrated")
			assert.False(t, exists(t, c, k.ServerValue("s")))
		})
	}
}
