package registry_test

// Adversarial review tests (written by the reviewer; not part of the project).

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

// layout1Write stores versions the way the first layout's apply_record.lua
// did: `local v = tonumber(ARGV[2])` then HSET ... v (a Lua number, which
// Redis renders with %.17g: 1e+17 and above in exponent notation).
const layout1Write = `
local v = tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 'config', '{"url":"x"}', 'cfgVersion', v, 'accessVersion', v, 'scopeVersion', v, 'scope', 'private')
redis.call('SADD', KEYS[2], 'u1')
return redis.call('HGET', KEYS[1], 'accessVersion')`

// Review finding (fixed): a first-layout record whose versions are >= ~1e17 (e.g. ns
// timestamps; any int64 is a valid version) was stored as "1.7326128e+18";
// version() in apply_record.lua widens only all-digit strings, so every
// newer 20-digit version ("0173...") compares as older: every later event of
// the server, a revoke included, is skipped forever.
func TestIntegrationReviewLayout1ExponentVersionBlocksNewerEvents(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	k := reg.Keys()
	stored, err := c.Eval(t.Context(), layout1Write, []string{k.ServerRecord("srv"), k.ServerAllowed("srv")}, "1732612800000000000").Text()
	require.NoError(t, err)
	t.Logf("layout 1 stored accessVersion %q", stored)

	// A newer revoke (u1 removed) at a larger version.
	res := change(t, reg, c, registry.Change{
		Server: "srv", Version: 1732612800000009999, Config: json.RawMessage(`{"url":"x"}`),
		SetsAccess: true, Allowed: []string{},
	})
	assert.True(t, res.Pending.Has(registry.AspectAccess), "a newer access event must apply")
	assert.Empty(t, members(t, c, k.ServerAllowed("srv")), "u1 must be revoked")
}
