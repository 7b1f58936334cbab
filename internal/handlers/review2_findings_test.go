package handlers_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/handlers"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/reader"
	"github.com/mcp-registry/worker/reader/layout"
)

// R2-1: an access event of a server takes the server from every user who
// reaches it only through an agent (consumeOnly): the revoke walk treats every
// login holder outside the allowed set as revoked, but agent-only users are
// never in the allowed set (AllowedUsers leaves them out by design).
func TestIntegrationReview2AccessEventRevokesAgentOnlyHolders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, other := e.user("", "USER", ""), e.user("", "USER", "")
	uid, err := bson.ObjectIDFromHex(u)
	require.NoError(t, err)
	srv := e.server("agent-tool", map[string]any{"url": "https://a"}, time.UnixMilli(1))
	e.grantUser(srv, other)
	agent, err := e.lc.AddAgent(e.ctx, "helper", []string{"agent-tool"})
	require.NoError(t, err)
	require.NoError(t, e.lc.GrantAgent(e.ctx, agent, devstack.UserPrincipal(uid), devstack.PermView))
	require.NoError(t, e.login(u))
	require.Contains(t, e.privateNames(u), "agent-tool", "agent-only server after login")

	// The owner shares the server with one more user (listed, or derived: same).
	w := e.mainWorld()
	w.must(access("agent-tool", cfg("https://a"), 5, other))

	// MongoDB still gives u the server through its agent.
	assert.Contains(t, e.privateNames(u), "agent-tool",
		"an unrelated access change must not take an agent-only server from its users")
}

// R2-2: a server event without dbId of a tenant's server takes the MongoDB id
// of ANY tenant's document of that name (ServerID has no tenant filter): the
// value of globex's "github" names acme's document.
func TestIntegrationReview2ServerIDLookupCrossesTenants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acmeDoc, err := e.lc.InTenant("acme").AddServer(e.ctx, "github", map[string]any{"url": "https://acme"}, time.UnixMilli(1))
	require.NoError(t, err)
	globexUser, err := e.lc.InTenant("globex").AddUser(e.ctx, "USER", "")
	require.NoError(t, err)

	w := e.mainWorld()
	ev := created("github", globexUser.Hex(), cfg("https://globex"), 1)
	ev.TenantID = "globex"
	w.must(ev)
	raw := e.rdb.Get(e.ctx, e.reg.Keys().ServerValue(layout.Qualify("globex", "github"))).Val()
	require.NotEmpty(t, raw)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &v))
	assert.NotEqual(t, acmeDoc.Hex(), v["dbId"], "globex's server value must not carry acme's document id")

	// Same in the default tenant: its event gets acme's id too.
	w.must(created("github", globexUser.Hex(), cfg("https://default"), 1))
	raw = e.rdb.Get(e.ctx, e.reg.Keys().ServerValue("github")).Val()
	require.NoError(t, json.Unmarshal([]byte(raw), &v))
	assert.NotEqual(t, acmeDoc.Hex(), v["dbId"], "the default tenant's server value must not carry acme's document id")
}

// R2-3: during a refresh, apply_user records a grant in the pending hash
// BEFORE checking it against the members hash's tombstone. A stale grant
// (a flow whose lock expired) is refused on the members hash (4) but kept in
// pending, and the refresh's commit resurrects it (MongoDB does not give the
// server, so the snapshot has no revision for it). Without a refresh the same
// stale grant changes nothing.
func TestIntegrationReview2StaleGrantDuringRefreshResurrects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, owner := e.user("", "USER", ""), e.user("", "USER", "")
	require.NoError(t, e.login(u))
	w := e.mainWorld()
	w.must(access("tool", cfg("https://t"), 1, u, owner)) // grant at rev r1
	require.Contains(t, e.privateNames(u), "tool")
	rec, err := e.reg.Record(e.ctx, "tool")
	require.NoError(t, err)
	staleRev := rec.Rev
	w.must(access("tool", cfg("https://t"), 2, owner)) // revoke: tombstone -r2
	require.NotContains(t, e.privateNames(u), "tool")

	// Control: a stale grant without a refresh is refused.
	res, err := e.reg.ApplyToUsers(e.ctx, "tool", staleRev, registry.OpSet, []string{u})
	require.NoError(t, err)
	require.Equal(t, registry.ResultStale, res[0])
	require.NotContains(t, e.privateNames(u), "tool")

	// The same stale grant lands while a refresh of u runs.
	e.source.hook(func(ctx context.Context, user string) error {
		if user != u {
			return nil
		}
		r, err := e.reg.ApplyToUsers(ctx, "tool", staleRev, registry.OpSet, []string{u})
		if err == nil {
			assert.Equal(t, registry.ResultStale, r[0], "refused on the members hash")
		}
		return err
	}, nil)
	require.NoError(t, e.handle(events.KindUserRefresh, events.Event{UserID: u}))
	e.source.hook(nil, nil)
	assert.NotContains(t, e.privateNames(u), "tool", "a refused stale grant must not come back with the refresh")
}

// R2-4: reconcile takes from a correct user a server an access event granted
// a moment ago (the record's allowed set, changed now, lists the user) because
// MongoDB's ACL does not show it yet; a login snapshot trusts a fresh record
// change for revokes (snapshot.go) but reconcile never trusts one for grants.
func TestIntegrationReview2ReconcileUndoesFreshEventGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("", "USER", "")
	require.NoError(t, e.login(u))
	w := e.mainWorld()
	w.must(access("fresh", cfg("https://f"), 1, u))
	require.Contains(t, e.privateNames(u), "fresh")

	rec := handlers.NewReconciler(e.reg, e.locks, e.source)
	_, repaired, err := rec.Pass(e.ctx, handlers.Options{}, func(handlers.Repair) {})
	require.NoError(t, err)
	assert.Zero(t, repaired, "a user matching the record's just-changed allowed set is correct")
	assert.Contains(t, e.privateNames(u), "fresh", "reconcile removed a grant the record holds")
}

// R2-5: a user of tenant acme whom the worker has not loaded (or whose
// registry expired) reads the DEFAULT tenant's shared tiers: values
// (secrets included, decrypted with CREDS_KEY) of another tenant's servers.
func TestIntegrationReview2UnloadedTenantUserSeesDefaultTenantTiers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acmeUser, err := e.lc.InTenant("acme").AddUser(e.ctx, "USER", "")
	require.NoError(t, err)
	w := e.mainWorld()
	w.must(shared("internal-default", cfg("https://default-only"), 1))

	r, err := reader.New(e.rdb, reader.Options{KeyPrefix: e.prefix})
	require.NoError(t, err)
	v, err := r.Effective(e.ctx, acmeUser.Hex())
	require.NoError(t, err)
	require.False(t, v.Loaded)
	assert.NotContains(t, v.Effective, "internal-default", "an acme user sees the default tenant's shared server")
	_, ok, err := r.Lookup(e.ctx, acmeUser.Hex(), "internal-default")
	require.NoError(t, err)
	assert.False(t, ok, "lookup of the default tenant's shared server by an acme user")
}
