package devstack_test

import (
	"context"
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
	wantCounts := map[string]int64{"users": 4, "groups": 1, "mcpservers": 6, "aclentries": 6, "stale": 0}
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
}

func TestIntegrationSeedDemoDescribesAccess(t *testing.T) {
	t.Parallel()
	m := testenv.StartMongo(t)
	d, err := devstack.SeedDemo(context.Background(), m.DB)
	require.NoError(t, err)

	assert.Equal(t, []string{"alice", "bob", "carol", "dave"}, d.UserNames())
	assert.Equal(t, []string{"billing-api", "docs-search", "github", "grafana", "jira", "team:ops ✓"}, d.ServerNames())
	assert.Equal(t, []string{"docs-search"}, d.Shared)
	assert.Equal(t, map[string][]string{
		"alice": {"docs-search", "github", "jira"},
		"bob":   {"docs-search", "jira", "team:ops ✓"},
		"carol": {"billing-api", "docs-search", "grafana"},
		"dave":  {"docs-search"},
	}, d.Access)
	assert.Equal(t, "demo-secret-do-not-log", d.Configs["billing-api"]["apiKey"])
	for name, v := range d.Versions {
		assert.Positive(t, v, name)
	}
}

func counts(ctx context.Context, t *testing.T, m *testenv.Mongo) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, c := range []string{"users", "groups", "mcpservers", "aclentries", "stale"} {
		n, err := m.DB.Collection(c).CountDocuments(ctx, bson.D{})
		require.NoError(t, err, c)
		out[c] = n
	}
	return out
}

func objectID(t *testing.T, hex string) bson.ObjectID {
	t.Helper()
	id, err := bson.ObjectIDFromHex(hex)
	require.NoError(t, err)
	return id
}
