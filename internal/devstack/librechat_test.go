package devstack_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/testenv"
)

// TestIntegrationLibreChatTenantsAgentsLegacy checks the documents the
// tenant, agent and legacy seed helpers write.
func TestIntegrationLibreChatTenantsAgentsLegacy(t *testing.T) {
	t.Parallel()
	m := testenv.StartMongo(t)
	ctx := t.Context()
	find := func(coll string, id any) bson.M {
		t.Helper()
		var doc bson.M
		require.NoError(t, m.DB.Collection(coll).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc))
		return doc
	}

	for _, tenant := range []string{"", "acme"} {
		t.Run("tenant "+tenant, func(t *testing.T) {
			lc := devstack.LibreChat{DB: m.DB}.InTenant(tenant)
			u, err := lc.AddUser(ctx, "USER", "")
			require.NoError(t, err)
			g, err := lc.AddSourceGroup(ctx, "eng", "entra-eng", "a")
			require.NoError(t, err)
			s, err := lc.AddServer(ctx, "s", nil, time.Time{})
			require.NoError(t, err)
			a, err := lc.AddAgent(ctx, "helper", []string{"s", "t"})
			require.NoError(t, err)
			require.NoError(t, lc.GrantAgent(ctx, a, devstack.GroupPrincipal(g), devstack.PermView))

			for coll, id := range map[string]bson.ObjectID{"users": u, "groups": g, "mcpservers": s, "agents": a} {
				tid, has := find(coll, id)["tenantId"]
				assert.Equal(t, tenant != "", has, coll)
				if has {
					assert.Equal(t, tenant, tid, coll)
				}
			}
			assert.Equal(t, "entra-eng", find("groups", g)["idOnTheSource"])
			assert.Equal(t, bson.A{"s", "t"}, find("agents", a)["mcpServerNames"])
			var acl bson.M
			require.NoError(t, m.DB.Collection("aclentries").FindOne(ctx, bson.D{{Key: "resourceId", Value: a}}).Decode(&acl))
			assert.Equal(t, "agent", acl["resourceType"])
			assert.Equal(t, "group", acl["principalType"])
			assert.Equal(t, g, acl["principalId"])
			assert.EqualValues(t, devstack.PermView, acl["permBits"])
			if tenant != "" {
				assert.Equal(t, tenant, acl["tenantId"])
			} else {
				assert.NotContains(t, acl, "tenantId")
			}
		})
	}

	t.Run("legacy options server", func(t *testing.T) {
		id, err := devstack.LibreChat{DB: m.DB}.AddLegacyOptionsServer(ctx, "old", "Old", map[string]any{"url": "u"}, time.UnixMilli(5))
		require.NoError(t, err)
		doc := find("mcpservers", id)
		assert.Equal(t, "old", doc["mcp_id"])
		assert.Equal(t, "Old", doc["title"])
		assert.Equal(t, bson.D{{Key: "url", Value: "u"}}, doc["options"])
		assert.NotContains(t, doc, "config")
		assert.NotContains(t, doc, "serverName")
	})
}
