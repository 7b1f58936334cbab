package handlers_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/devstack"
)

// Hard case 24: a server reached only through an agent the user may view
// carries consumeOnly in the user's value; one also reached directly does not.
func TestIntegrationAgentOnlyServersAreConsumeOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("", "USER", "")
	uid, err := bson.ObjectIDFromHex(u)
	require.NoError(t, err)
	e.server("agent-tool", map[string]any{"url": "https://a"}, time.UnixMilli(1))
	both := e.server("both", map[string]any{"url": "https://b"}, time.UnixMilli(1))
	e.grantUser(both, u)
	agent, err := e.lc.AddAgent(e.ctx, "helper", []string{"agent-tool", "both"})
	require.NoError(t, err)
	require.NoError(t, e.lc.GrantAgent(e.ctx, agent, devstack.UserPrincipal(uid), devstack.PermView))
	require.NoError(t, e.login(u))
	v := e.view(u)
	assert.Equal(t, true, decodeValue(t, v.Private["agent-tool"])["consumeOnly"], "agent only")
	assert.NotContains(t, decodeValue(t, v.Private["both"]), "consumeOnly", "also direct")
	stored := e.rdb.Get(e.ctx, e.reg.Keys().ServerValue("agent-tool")).Val()
	assert.NotContains(t, stored, "consumeOnly", "the server's one value stays the same for everyone")
}

// Hard case 25 (small): an access event without a list derives the allowed
// users from MongoDB's ACL (a group share): exactly the loaded members gain
// the server, and a previously allowed user outside the group loses it.
func TestIntegrationDerivedAccessGrantsLoadedGroupMembers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m1, m2, notLoaded, outsider := e.user("", "USER", ""), e.user("", "USER", ""), e.user("", "USER", ""), e.user("", "USER", "")
	for _, u := range []string{m1, m2, outsider} {
		require.NoError(t, e.login(u))
	}
	w := e.mainWorld()
	w.must(access("shared-tool", cfg("https://s"), 1, outsider))
	require.NotNil(t, w.private(outsider, "shared-tool"))
	g, err := e.lc.AddGroup(e.ctx, "team", m1, m2, notLoaded)
	require.NoError(t, err)
	srv := e.server("shared-tool", map[string]any{"url": "https://s"}, time.UnixMilli(1))
	require.NoError(t, e.lc.GrantGroup(e.ctx, srv, g, devstack.PermView))

	ev := access("shared-tool", cfg("https://s"), 2)
	ev.AllowedUserIDs, ev.DeriveAccess = nil, true
	w.must(ev)
	assert.NotNil(t, w.private(m1, "shared-tool"))
	assert.NotNil(t, w.private(m2, "shared-tool"))
	assert.Nil(t, w.private(outsider, "shared-tool"), "not in the ACL any more")
	assert.False(t, e.view(notLoaded).Loaded, "members who are not loaded are left to their login")
	allowed := e.rdb.SMembers(e.ctx, e.reg.Keys().ServerAllowed("shared-tool")).Val()
	assert.ElementsMatch(t, []string{m1, m2, notLoaded}, allowed)
}
