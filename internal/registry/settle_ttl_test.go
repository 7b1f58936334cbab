package registry_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/testenv"
)

// settle_server_ttl.lua: 1 (deleted: every key of the server expires), 0 (not
// deleted: the keys persist), -1 (fenced: nothing written); a zero
// TombstoneTTL keeps deleted servers forever.
func TestIntegrationSettleServerTTL(t *testing.T) {
	t.Parallel()
	c, prefix := testenv.DefaultRedis(t)
	reg := registry.New(c, registry.Config{KeyPrefix: prefix, CacheTTL: time.Hour, PendingTTL: time.Minute, TombstoneTTL: time.Hour})
	k := reg.Keys()
	createServer(t, reg, c, "s", 1, registry.ScopePrivate, `{"url":"u"}`, "a", "b")
	holder := k.ServerHolders("s", 7)
	require.NoError(t, c.HSet(t.Context(), holder, "a", "1").Err())
	keys := []string{k.ServerRecord("s"), k.ServerAllowed("s"), holder}

	change(t, reg, c, registry.Change{Server: "s", Version: 2, Scope: registry.ScopeDeleted})
	require.NoError(t, reg.SettleServerTTL(t.Context(), srvToken, "s"))
	for _, key := range keys {
		ttl := pttl(t, c, key)
		assert.Greater(t, ttl, 59*time.Minute, key)
		assert.LessOrEqual(t, ttl, time.Hour, key)
	}

	holdLock(t, c, k.ServerLock("s"), "someone-else")
	require.ErrorIs(t, reg.SettleServerTTL(t.Context(), srvToken, "s"), registry.ErrFenced)

	change(t, reg, c, registry.Change{Server: "s", Version: 3, Scope: registry.ScopePrivate, SetsAccess: true, Allowed: []string{"a"}})
	require.NoError(t, reg.SettleServerTTL(t.Context(), srvToken, "s"))
	for _, key := range keys {
		assert.Equal(t, time.Duration(-1), pttl(t, c, key), "%s persists", key)
	}

	forever := registry.New(c, registry.Config{KeyPrefix: prefix, CacheTTL: time.Hour, PendingTTL: time.Minute})
	change(t, reg, c, registry.Change{Server: "s", Version: 4, Scope: registry.ScopeDeleted})
	require.NoError(t, forever.SettleServerTTL(t.Context(), srvToken, "s"))
	assert.Equal(t, time.Duration(-1), pttl(t, c, k.ServerRecord("s")), "TombstoneTTL 0: kept")
}
