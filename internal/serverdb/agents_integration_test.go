package serverdb_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/devstack"
)

// TestIntegrationAgents checks servers reached through agents the user may
// VIEW (LibreChat's ServerConfigsDB.getAll): each case returns the user, the
// names it must get and, of those, the ones that are ConsumeOnly.
func TestIntegrationAgents(t *testing.T) {
	t.Parallel()
	m := startMongo(t)
	view := devstack.PermView

	tests := []struct {
		name string
		seed func(e env) (userID string, want, wantConsumeOnly []string)
	}{
		{"agent granted to the user", func(e env) (string, []string, []string) {
			u := e.user("USER", "")
			e.server("a")
			e.server("not-named")
			e.grantAgent(e.agent("helper", "a"), devstack.UserPrincipal(u), view)
			return u.Hex(), []string{"a"}, []string{"a"}
		}},
		{"direct access wins over the agent", func(e env) (string, []string, []string) {
			u := e.user("USER", "")
			e.grantUser(e.server("both"), u, view)
			e.server("agent-only")
			e.grantAgent(e.agent("helper", "both", "agent-only"), devstack.UserPrincipal(u), view)
			return u.Hex(), []string{"agent-only", "both"}, []string{"agent-only"}
		}},
		{"agent through group, role and public", func(e env) (string, []string, []string) {
			u := e.user("ADMIN", "src")
			for _, n := range []string{"g", "r", "p", "other-role"} {
				e.server(n)
			}
			e.grantAgent(e.agent("ga", "g"), devstack.GroupPrincipal(e.group("team", "src")), view)
			e.grantAgent(e.agent("ra", "r"), devstack.RolePrincipal("ADMIN"), view)
			e.grantAgent(e.agent("pa", "p"), devstack.PublicPrincipal(), view)
			e.grantAgent(e.agent("oa", "other-role"), devstack.RolePrincipal("USER"), view)
			return u.Hex(), []string{"g", "p", "r"}, []string{"g", "p", "r"}
		}},
		{"agent without VIEW", func(e env) (string, []string, []string) {
			u := e.user("USER", "")
			e.server("a")
			e.grantAgent(e.agent("edit-only", "a"), devstack.UserPrincipal(u), devstack.PermEdit|devstack.PermShare)
			return u.Hex(), []string{}, []string{}
		}},
		{"agent names a legacy mcp_id server", func(e env) (string, []string, []string) {
			u := e.user("USER", "")
			_, err := e.lc.AddLegacyOptionsServer(e.ctx, "old", "Old", map[string]any{"url": "u"}, time.Time{})
			require.NoError(e.t, err)
			e.grantAgent(e.agent("helper", "old"), devstack.UserPrincipal(u), view)
			return u.Hex(), []string{"old"}, []string{"old"}
		}},
		{"mcp_id shadowed by serverName is not that name", func(e env) (string, []string, []string) {
			u := e.user("USER", "")
			e.insert("mcpservers", bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "serverName", Value: "new"}, {Key: "mcp_id", Value: "old"}})
			e.grantAgent(e.agent("helper", "old"), devstack.UserPrincipal(u), view)
			return u.Hex(), []string{}, []string{}
		}},
		{"missing servers, odd names and agents", func(e env) (string, []string, []string) {
			u := e.user("USER", "")
			e.server("a")
			e.grantAgent(e.agent("ghost", "no-such-server"), devstack.UserPrincipal(u), view)
			e.grantAgent(e.agent("none", nil...), devstack.UserPrincipal(u), view)
			odd := bson.NewObjectID()
			e.insert("agents", bson.D{{Key: "_id", Value: odd}, {Key: "mcpServerNames", Value: bson.A{int32(1), "", nil, "a"}}})
			e.grantAgent(odd, devstack.UserPrincipal(u), view)
			e.grantAgent(bson.NewObjectID(), devstack.UserPrincipal(u), view) // deleted agent
			return u.Hex(), []string{"a"}, []string{"a"}
		}},
		{"a server grant is not an agent grant", func(e env) (string, []string, []string) {
			u := e.user("USER", "")
			e.server("a")
			ag := e.agent("helper", "a")
			e.grantUser(ag, u, view) // resourceType mcpServer on the agent's _id
			return u.Hex(), []string{}, []string{}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			userID, want, wantConsumeOnly := tt.seed(e)
			got, err := e.store.AccessibleServers(t.Context(), userID)
			require.NoError(t, err)
			assert.Equal(t, want, names(got))
			assert.Equal(t, wantConsumeOnly, consumeOnly(got))
		})
	}

	t.Run("duplicate names through agents keep the newest", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, m)
		u := e.user("USER", "")
		base := time.UnixMilli(1_700_000_000_000)
		e.serverAt("dup", base)
		newest := e.serverAt("dup", base.Add(time.Second))
		e.grantAgent(e.agent("helper", "dup"), devstack.UserPrincipal(u), view)

		got, err := e.store.AccessibleServers(t.Context(), u.Hex())
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, newest.Hex(), got[0].DBID)
		assert.True(t, got[0].ConsumeOnly)
		assert.JSONEq(t, `{"url":"https://dup"}`, string(got[0].Config))
	})
}
