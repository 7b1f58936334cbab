package serverdb_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// tenantWorld is two tenants and the default one, sharing server names,
// group names, idOnTheSource values and role names.
type tenantWorld struct {
	users   map[string]bson.ObjectID // tenant ("" default) -> user
	servers map[string]map[string]bson.ObjectID
}

// seedTenants writes, into each of "", "acme" and "globex": a user with
// role USER and idOnTheSource "src-1"; a group "eng" holding "src-1"; the
// servers "pub" (public), "team" (group eng), "mine" (the user), "role" (role
// USER), "via-agent" (named by a public agent) and "other" (nobody).
func seedTenants(e env) tenantWorld {
	w := tenantWorld{users: map[string]bson.ObjectID{}, servers: map[string]map[string]bson.ObjectID{}}
	view := devstack.PermView
	for _, tenant := range []string{"", "acme", "globex"} {
		s := e.in(tenant)
		u := s.user("USER", "src-1")
		w.users[tenant] = u
		srv := map[string]bson.ObjectID{}
		for _, n := range []string{"pub", "team", "mine", "role", "via-agent", "other"} {
			srv[n] = s.server(n)
		}
		w.servers[tenant] = srv
		s.grantPublic(srv["pub"], view)
		s.grantGroup(srv["team"], s.group("eng", "src-1"), view)
		s.grantUser(srv["mine"], u, view)
		s.grantRole(srv["role"], "USER", view)
		s.grantAgent(s.agent("helper", "via-agent"), devstack.PublicPrincipal(), view)
	}
	return w
}

// TestIntegrationTenants checks that a user sees only the servers, groups,
// agents and ACL entries of the user's own tenant, public ones included, when
// tenants share server names, group names and idOnTheSource values.
func TestIntegrationTenants(t *testing.T) {
	t.Parallel()
	m := startMongo(t)
	e := newEnv(t, m)
	w := seedTenants(e)
	want := []string{"mine", "pub", "role", "team", "via-agent"}

	for _, tenant := range []string{"", "acme", "globex"} {
		t.Run("tenant "+tenant, func(t *testing.T) {
			t.Parallel()
			got, err := e.store.AccessibleServers(t.Context(), w.users[tenant].Hex())
			require.NoError(t, err)
			require.Equal(t, want, names(got))
			for _, s := range got {
				assert.Equal(t, w.servers[tenant][s.Name].Hex(), s.DBID, "%s comes from tenant %q", s.Name, tenant)
				assert.Equal(t, tenant, s.Tenant, s.Name)
				assert.Equal(t, s.Name == "via-agent", s.ConsumeOnly, s.Name)
			}
			gotTenant, err := e.store.UserTenant(t.Context(), w.users[tenant].Hex())
			require.NoError(t, err)
			assert.Equal(t, tenant, gotTenant)
		})
	}

	t.Run("unknown and non-hex users are in the default tenant", func(t *testing.T) {
		t.Parallel()
		for _, id := range []string{bson.NewObjectID().Hex(), "src-1"} {
			got, err := e.store.AccessibleServers(t.Context(), id)
			require.NoError(t, err)
			// public, the public agent's server, and the default tenant's
			// group eng, which lists the raw id "src-1"
			wantNames := []string{"pub", "via-agent"}
			if id == "src-1" {
				wantNames = []string{"pub", "team", "via-agent"}
			}
			assert.Equal(t, wantNames, names(got), id)
			for _, s := range got {
				assert.Equal(t, w.servers[""][s.Name].Hex(), s.DBID)
			}
			tenant, err := e.store.UserTenant(t.Context(), id)
			require.NoError(t, err)
			assert.Empty(t, tenant)
		}
	})

	t.Run("a user whose tenantId is not a string sees nothing", func(t *testing.T) {
		t.Parallel()
		for _, tenantID := range []any{nil, int32(7), bson.NewObjectID()} {
			u := bson.NewObjectID()
			e.insert("users", bson.D{{Key: "_id", Value: u}, {Key: "role", Value: "USER"}, {Key: "idOnTheSource", Value: "src-1"}, {Key: "tenantId", Value: tenantID}})
			got, err := e.store.AccessibleServers(t.Context(), u.Hex())
			require.NoError(t, err)
			assert.Equal(t, []serverdb.Server{}, got, "%v", tenantID)
			_, err = e.store.UserTenant(t.Context(), u.Hex())
			require.ErrorIs(t, err, serverdb.ErrNoTenant)
		}
	})
}
