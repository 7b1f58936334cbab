package handlers_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/reader/layout"
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

// Hard case 24: one tenant never sees another's servers, in MongoDB and in
// Redis: same-named servers of two tenants keep apart records, values and
// tier entries; events carry tenantId.
func TestIntegrationTenantsStayApart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acme, globex := e.lc.InTenant("acme"), e.lc.InTenant("globex")
	users := map[string]string{}
	for name, lc := range map[string]devstack.LibreChat{"acme": acme, "globex": globex} {
		uid, err := lc.AddUser(e.ctx, "USER", "")
		require.NoError(t, err)
		srv, err := lc.AddServer(e.ctx, "github", map[string]any{"url": "https://" + name + ".github"}, time.UnixMilli(1))
		require.NoError(t, err)
		require.NoError(t, lc.GrantUser(e.ctx, srv, uid, devstack.PermView))
		users[name] = uid.Hex()
		require.NoError(t, e.login(users[name]))
	}
	for name, u := range users {
		v := e.view(u)
		require.Contains(t, v.Private, "github", name)
		assert.Equal(t, "https://"+name+".github", decodeValue(t, v.Private["github"])["url"], name)
	}

	for name, u := range users {
		sv, err := e.reg.Server(e.ctx, layout.Qualify(name, "github"))
		require.NoError(t, err)
		assert.Equal(t, []string{u}, sv.CachedFor, "%s's github is held by %s's user only", name, name)
	}

	// acme's server changes and is shared: globex's stays as it was, private.
	w := e.mainWorld()
	up := updated("github", cfg("https://acme.github/v2"), 10)
	up.TenantID = "acme"
	w.must(up)
	sh := shared("github", cfg("https://acme.github/v2"), 11)
	sh.TenantID = "acme"
	w.must(sh)
	a, g := e.view(users["acme"]), e.view(users["globex"])
	assert.Equal(t, "app", string(a.Effective["github"].Tier))
	assert.Equal(t, "https://acme.github/v2", decodeValue(t, a.Effective["github"].Config)["url"])
	assert.Equal(t, "private", string(g.Effective["github"].Tier), "acme's share does not reach globex")
	assert.Equal(t, "https://globex.github", decodeValue(t, g.Effective["github"].Config)["url"])
	got, ok, err := e.reg.Lookup(e.ctx, users["globex"], "github")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "https://globex.github", decodeValue(t, got.Config)["url"])
}
