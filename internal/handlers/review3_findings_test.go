package handlers_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/devstack"
)

// Review finding (fixed): a derived (staged) access event RENAMEs the staged set onto the allowed
// set; the staged set carries the pending TTL, so the allowed set inherits it
// and vanishes after PendingTTL. A later listed access event then diffs
// against an empty set: the users it drops are never put in the revoke set,
// and the holder index forgot them when the allowed set covered them.
func TestIntegrationReview3DerivedAllowedSetExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m1, m2 := e.user("", "USER", ""), e.user("", "USER", "")
	for _, u := range []string{m1, m2} {
		require.NoError(t, e.login(u))
	}
	w := e.mainWorld()
	w.must(access("shared-tool", cfg("https://s"), 1, m2))
	g, err := e.lc.AddGroup(e.ctx, "team", m1, m2)
	require.NoError(t, err)
	srv := e.server("shared-tool", map[string]any{"url": "https://s"}, time.UnixMilli(1))
	require.NoError(t, e.lc.GrantGroup(e.ctx, srv, g, devstack.PermView))
	ev := access("shared-tool", cfg("https://s"), 2)
	ev.AllowedUserIDs, ev.DeriveAccess = nil, true
	w.must(ev)
	require.NotNil(t, w.private(m1, "shared-tool"))

	key := e.reg.Keys().ServerAllowed("shared-tool")
	ttl := e.rdb.PTTL(e.ctx, key).Val()
	assert.Equal(t, time.Duration(-1), ttl, "the allowed set must not expire (it has PTTL %v)", ttl)

	// (Before the fix the set carried the staging TTL and vanished after
	// PendingTTL; the reviewer's test expired it early to show the lost
	// revoke.) MongoDB-side and event: m1 is no longer allowed.
	w.must(access("shared-tool", cfg("https://s"), 3, m2))
	assert.Nil(t, w.private(m1, "shared-tool"), "m1 was revoked by version 3 but still holds the server")
}
