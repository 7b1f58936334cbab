package devstack_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/testenv"
)

func TestIntegrationSeedDemoIsIdempotent(t *testing.T) {
	t.Parallel()
	m := testenv.StartMongo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Leftovers of an earlier run, in a collection the seed does not write.
	_, err := m.DB.Collection("stale").InsertOne(ctx, bson.D{{Key: "x", Value: 1}})
	require.NoError(t, err)

	first, err := devstack.SeedDemo(ctx, m.DB)
	require.NoError(t, err)
	wantCounts := map[string]int64{"users": 5, "groups": 2, "mcpservers": 8, "aclentries": 9, "agents": 1, "stale": 0}
	assert.Equal(t, wantCounts, counts(ctx, t, m), "after the first seed")

	second, err := devstack.SeedDemo(ctx, m.DB)
	require.NoError(t, err)
	assert.Equal(t, wantCounts, counts(ctx, t, m), "after the second seed")
	assert.NotEqual(t, first.Users["alice"], second.Users["alice"], "a re-seed writes new documents")

	var alice bson.M
	require.NoError(t, m.DB.Collection("users").FindOne(ctx, bson.D{{Key: "_id", Value: objectID(t, second.Users["alice"])}}).Decode(&alice))
	assert.Equal(t, "alice@example.test", alice["idOnTheSource"])
	var group struct {
		MemberIDs []string `bson:"memberIds"`
	}
	require.NoError(t, m.DB.Collection("groups").FindOne(ctx, bson.D{{Key: "name", Value: "platform"}}).Decode(&group))
	assert.ElementsMatch(t, []string{"alice@example.test", second.Users["bob"]}, group.MemberIDs)
	var unicode bson.M
	require.NoError(t, m.DB.Collection("mcpservers").FindOne(ctx, bson.D{{Key: "serverName", Value: "team:ops ✓"}}).Decode(&unicode))
	assert.Equal(t, objectID(t, second.Servers["team:ops ✓"]), unicode["_id"])
	var dave int64
	dave, err = m.DB.Collection("aclentries").CountDocuments(ctx, bson.D{{Key: "principalId", Value: objectID(t, second.Users["dave"])}})
	require.NoError(t, err)
	assert.Zero(t, dave, "dave has no grant of his own")

	// globex: hank, his github (another url than the default tenant's) and
	// its ACL entry carry the tenant; nothing else does.
	var hank bson.M
	require.NoError(t, m.DB.Collection("users").FindOne(ctx, bson.D{{Key: "_id", Value: objectID(t, second.Users["hank"])}}).Decode(&hank))
	assert.Equal(t, "globex", hank["tenantId"])
	var github []struct {
		TenantID any `bson:"tenantId"`
		Config   struct {
			URL string `bson:"url"`
		} `bson:"config"`
	}
	cur, err := m.DB.Collection("mcpservers").Find(ctx, bson.D{{Key: "serverName", Value: "github"}})
	require.NoError(t, err)
	require.NoError(t, cur.All(ctx, &github))
	require.Len(t, github, 2)
	urls := map[any]any{}
	for _, doc := range github {
		urls[doc.TenantID] = doc.Config.URL
	}
	assert.Equal(t, map[any]any{nil: "https://github-mcp.example.test/mcp", "globex": "https://github.globex.example.test/mcp"}, urls)
	for coll, want := range map[string]int64{"users": 1, "mcpservers": 1, "aclentries": 1, "groups": 0, "agents": 0} {
		n, err := m.DB.Collection(coll).CountDocuments(ctx, bson.D{{Key: "tenantId", Value: "globex"}})
		require.NoError(t, err)
		assert.Equal(t, want, n, coll)
	}

	// The agent names github and grafana and is shared with alice.
	var agent bson.M
	require.NoError(t, m.DB.Collection("agents").FindOne(ctx, bson.D{{Key: "name", Value: "release-notes"}}).Decode(&agent))
	assert.Equal(t, bson.A{"github", "grafana"}, agent["mcpServerNames"])
	n, err := m.DB.Collection("aclentries").CountDocuments(ctx, bson.D{
		{Key: "resourceType", Value: "agent"},
		{Key: "resourceId", Value: agent["_id"]},
		{Key: "principalType", Value: "user"},
		{Key: "principalId", Value: objectID(t, second.Users["alice"])},
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
}

func TestIntegrationSeedDemoJoinGroup(t *testing.T) {
	t.Parallel()
	m := testenv.StartMongo(t)
	ctx := t.Context()
	d, err := devstack.SeedDemo(ctx, m.DB)
	require.NoError(t, err)
	assert.Equal(t, devstack.GroupJoin{User: "dave", Group: "oncall", Servers: []string{"pagerduty"}}, d.Join)

	members := func() []string {
		var g struct {
			MemberIDs []string `bson:"memberIds"`
		}
		require.NoError(t, m.DB.Collection("groups").FindOne(ctx, bson.D{{Key: "_id", Value: objectID(t, d.Groups["oncall"])}}).Decode(&g))
		return g.MemberIDs
	}
	assert.Equal(t, []string{"carol@example.test"}, members())
	require.NoError(t, d.JoinGroup(ctx, m.DB))
	require.NoError(t, d.JoinGroup(ctx, m.DB), "joining twice lists dave once")
	assert.Equal(t, []string{"carol@example.test", d.Users["dave"]}, members())

	// The group grants pagerduty.
	n, err := m.DB.Collection("aclentries").CountDocuments(ctx, bson.D{
		{Key: "principalType", Value: "group"},
		{Key: "principalId", Value: objectID(t, d.Groups["oncall"])},
		{Key: "resourceId", Value: objectID(t, d.Servers["pagerduty"])},
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)

	d.Groups["oncall"] = "000000000000000000000000"
	assert.ErrorContains(t, d.JoinGroup(ctx, m.DB), "no such group")
}

func TestIntegrationSeedDemoDescribesAccess(t *testing.T) {
	t.Parallel()
	m := testenv.StartMongo(t)
	d, err := devstack.SeedDemo(context.Background(), m.DB)
	require.NoError(t, err)

	assert.Equal(t, []string{"alice", "bob", "carol", "dave", "hank"}, d.UserNames())
	assert.Equal(t, []string{"billing-api", "docs-search", "github", "grafana", "jira", "pagerduty", "team:ops ✓"}, d.ServerNames())
	assert.Equal(t, []string{"docs-search"}, d.Shared)
	assert.Equal(t, map[string][]string{
		"alice": {"docs-search", "github", "jira"},
		"bob":   {"docs-search", "jira", "team:ops ✓"},
		"carol": {"billing-api", "docs-search", "grafana", "pagerduty"},
		"dave":  {"docs-search"},
		"hank":  {"github"},
	}, d.Access)
	assert.Equal(t, map[string][]string{"alice": {"grafana"}}, d.ConsumeOnly)
	assert.Equal(t, map[string][]string{"alice": {"release-notes"}}, d.Agents)
	assert.Equal(t, map[string]string{"hank": "globex"}, d.Tenants)
	assert.Equal(t, []string{"github"}, sortedKeys(d.TenantServers["globex"]))
	assert.NotEqual(t, d.Servers["github"], d.TenantServers["globex"]["github"])
	assert.Equal(t, "https://github.globex.example.test/mcp", d.TenantURLs["globex"]["github"])
	assert.Equal(t, "https://github-mcp.example.test/mcp", d.TenantURLs[""]["github"])
	assert.Equal(t, []string{"oncall", "platform"}, sortedKeys(d.Groups))
	assert.Equal(t, "demo-secret-do-not-log", d.Configs["billing-api"]["apiKey"])
	for name, v := range d.Versions {
		assert.Positive(t, v, name)
	}
}

func counts(ctx context.Context, t *testing.T, m *testenv.Mongo) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, c := range []string{"users", "groups", "mcpservers", "aclentries", "agents", "stale"} {
		n, err := m.DB.Collection(c).CountDocuments(ctx, bson.D{})
		require.NoError(t, err, c)
		out[c] = n
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func objectID(t *testing.T, hex string) bson.ObjectID {
	t.Helper()
	id, err := bson.ObjectIDFromHex(hex)
	require.NoError(t, err)
	return id
}
