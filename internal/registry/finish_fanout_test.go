package registry_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

// finish_fanout returns 1 (mask cleared, tier noted, revoke set dropped when
// drained) or -1 (fenced: nothing written).
func TestIntegrationFinishFanout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		tier        registry.Tier
		drained     bool
		wantTierSet bool
	}{
		{"into a tier, revoke drained", registry.TierUser, true, true},
		{"into no tier, revoke drained", "", true, false},
		{"revoke not walked is kept", registry.TierApp, false, true},
		{"no tier, revoke kept", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, c := newServer(t)
			k := reg.Keys()
			applyChange(t, reg, registry.Change{Version: 1, Scope: registry.ScopePublic, SetsAccess: true, Allowed: []string{"a"}})
			require.NoError(t, c.HSet(t.Context(), k.ServerRecord("srv"), "tier", "app").Err())
			res := applyChange(t, reg, registry.Change{Version: 2, Config: json.RawMessage(`{}`), SetsAccess: true})
			require.Equal(t, registry.Aspects(7), res.Pending)
			require.Equal(t, []string{"a"}, members(t, c, k.ServerRevoke("srv")))

			require.NoError(t, reg.FinishFanout(t.Context(), srvToken, "srv", tt.tier, tt.drained))
			rec, err := reg.Record(t.Context(), "srv")
			require.NoError(t, err)
			assert.Zero(t, rec.Fanout)
			assert.NotContains(t, hgetAll(t, c, k.ServerRecord("srv")), "fanout", "field removed")
			assert.Equal(t, tt.tier, rec.Tier)
			_, hasTier := hgetAll(t, c, k.ServerRecord("srv"))["tier"]
			assert.Equal(t, tt.wantTierSet, hasTier)
			// A drained revoke set lingers (with a TTL) for the repair of a
			// flow whose lock expired mid-grant; one not walked is kept for good.
			assert.Equal(t, []string{"a"}, members(t, c, k.ServerRevoke("srv")))
			if tt.drained {
				assert.Greater(t, pttl(t, c, k.ServerRevoke("srv")), time.Duration(0), "drained: expires")
			} else {
				assert.Equal(t, time.Duration(-1), pttl(t, c, k.ServerRevoke("srv")), "not walked: kept")
			}
			assert.EqualValues(t, 2, rec.Rev, "revision untouched")

			// The next change starts from a clean mask.
			res = applyChange(t, reg, registry.Change{Version: 3, Config: json.RawMessage(`{"x":1}`)})
			assert.Equal(t, registry.AspectConfig, res.Pending)
			assert.Zero(t, res.Unfinished)
		})
	}
}

func TestIntegrationFinishFanoutFenced(t *testing.T) {
	t.Parallel()
	reg, c := newServer(t)
	k := reg.Keys()
	applyChange(t, reg, registry.Change{Version: 1, Scope: registry.ScopePublic, SetsAccess: true, Allowed: []string{"a"}})
	finish(t, reg, registry.TierApp)
	applyChange(t, reg, registry.Change{Version: 2, Config: json.RawMessage(`{}`), SetsAccess: true})
	holdLock(t, c, k.ServerLock("srv"), "other")
	err := reg.FinishFanout(t.Context(), srvToken, "srv", registry.TierUser, true)
	require.ErrorIs(t, err, registry.ErrFenced)
	rec, err := reg.Record(t.Context(), "srv")
	require.NoError(t, err)
	assert.Equal(t, registry.AspectConfig|registry.AspectAccess, rec.Fanout, "mask kept")
	assert.Equal(t, registry.TierApp, rec.Tier, "tier kept")
	assert.Equal(t, []string{"a"}, members(t, c, k.ServerRevoke("srv")), "revoke set kept")

	require.NoError(t, c.Del(t.Context(), k.ServerLock("srv")).Err())
	require.ErrorIs(t, reg.FinishFanout(t.Context(), srvToken, "srv", "", true), registry.ErrFenced, "no lock at all")
}
