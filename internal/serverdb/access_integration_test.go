package serverdb_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// TestIntegrationAccessibleServers checks who sees what (CONTRACT section 3).
// Each case seeds its own database and returns the user to ask for and the
// names that user must get, exactly and in order.
func TestIntegrationAccessibleServers(t *testing.T) {
	t.Parallel()
	m := startMongo(t)
	view := devstack.PermView

	tests := []struct {
		name string
		seed func(e env) (userID string, want []string)
	}{
		{"direct user grant", func(e env) (string, []string) {
			u := e.user("USER", "")
			e.grantUser(e.server("a"), u, view)
			e.server("not-granted")
			return u.Hex(), []string{"a"}
		}},
		{"group via idOnTheSource", func(e env) (string, []string) {
			u := e.user("USER", "entra-42")
			g := e.group("team", "someone-else", "entra-42")
			e.grantGroup(e.server("g"), g, view)
			other := e.group("others", "someone-else")
			e.grantGroup(e.server("not-mine"), other, view)
			return u.Hex(), []string{"g"}
		}},
		{"group via id hex", func(e env) (string, []string) {
			u := e.user("USER", "entra-42")
			g := e.group("team", u.Hex())
			e.grantGroup(e.server("g"), g, view)
			return u.Hex(), []string{"g"}
		}},
		{"several groups", func(e env) (string, []string) {
			u := e.user("USER", "src-1")
			g1 := e.group("by-source", "src-1")
			g2 := e.group("by-id", u.Hex())
			e.grantGroup(e.server("g1"), g1, view)
			e.grantGroup(e.server("g2"), g2, view)
			return u.Hex(), []string{"g1", "g2"}
		}},
		{"role", func(e env) (string, []string) {
			u := e.user("ADMIN", "")
			e.grantRole(e.server("admin-tool"), "ADMIN", view)
			e.grantRole(e.server("user-tool"), "USER", view)
			return u.Hex(), []string{"admin-tool"}
		}},
		{"user without role gets no role grant", func(e env) (string, []string) {
			u := e.user("", "")
			e.grantRole(e.server("r"), "USER", view)
			e.grantRole(e.server("empty-role"), "", view)
			return u.Hex(), []string{}
		}},
		{"public", func(e env) (string, []string) {
			u := e.user("USER", "")
			e.grantPublic(e.server("pub"), view)
			return u.Hex(), []string{"pub"}
		}},
		{"VIEW bit required", func(e env) (string, []string) {
			u := e.user("USER", "")
			e.grantUser(e.server("edit-only"), u, devstack.PermEdit)
			e.grantPublic(e.server("share-delete"), devstack.PermShare|devstack.PermDelete)
			e.grantUser(e.server("view-edit"), u, view|devstack.PermEdit)
			e.grantUser(e.server("all-bits"), u, 15)
			return u.Hex(), []string{"all-bits", "view-edit"}
		}},
		{"permBits stored as double or int64", func(e env) (string, []string) {
			u := e.user("USER", "")
			for name, bits := range map[string]any{"double": 3.0, "long": int64(1), "long-edit": int64(2), "string": "1"} {
				e.insert("aclentries", bson.D{
					{Key: "principalType", Value: "user"},
					{Key: "principalId", Value: u},
					{Key: "resourceType", Value: "mcpServer"},
					{Key: "resourceId", Value: e.server(name)},
					{Key: "permBits", Value: bits},
				})
			}
			return u.Hex(), []string{"double", "long"}
		}},
		{"other resourceType excluded", func(e env) (string, []string) {
			u := e.user("USER", "")
			s := e.server("s")
			for _, rt := range []string{"agent", "promptGroup", "MCPServer", ""} {
				e.insert("aclentries", bson.D{
					{Key: "principalType", Value: "user"},
					{Key: "principalId", Value: u},
					{Key: "resourceType", Value: rt},
					{Key: "resourceId", Value: s},
					{Key: "permBits", Value: int32(15)},
				})
			}
			return u.Hex(), []string{}
		}},
		{"another user's grants excluded", func(e env) (string, []string) {
			me := e.user("USER", "me-src")
			other := e.user("ADMIN", "other-src")
			e.grantUser(e.server("mine"), me, view)
			e.grantUser(e.server("theirs"), other, view)
			g := e.group("their-team", "other-src", other.Hex())
			e.grantGroup(e.server("their-group"), g, view)
			e.grantRole(e.server("their-role"), "ADMIN", view)
			// a principalId that is my id as a string, not an ObjectId, is not me
			e.insert("aclentries", bson.D{
				{Key: "principalType", Value: "user"},
				{Key: "principalId", Value: me.Hex()},
				{Key: "resourceType", Value: "mcpServer"},
				{Key: "resourceId", Value: e.server("hex-string-principal")},
				{Key: "permBits", Value: int32(1)},
			})
			// a group grant naming my user id is not a user grant
			e.grantGroup(e.server("wrong-type"), me, view)
			return me.Hex(), []string{"mine"}
		}},
		{"same server through several principals once", func(e env) (string, []string) {
			u := e.user("USER", "src")
			s := e.server("s")
			e.grantUser(s, u, view)
			e.grantGroup(s, e.group("g", "src"), view)
			e.grantRole(s, "USER", view)
			e.grantPublic(s, view)
			return u.Hex(), []string{"s"}
		}},
		{"legacy mcp_id", func(e env) (string, []string) {
			u := e.user("USER", "")
			id, err := e.lc.AddLegacyServer(e.ctx, "legacy", map[string]any{"x": 1}, time.Now())
			require.NoError(e.t, err)
			e.grantUser(id, u, view)
			e.grantUser(e.server("modern"), u, view)
			return u.Hex(), []string{"legacy", "modern"}
		}},
		{"serverName wins over mcp_id", func(e env) (string, []string) {
			u := e.user("USER", "")
			both, empty := bson.NewObjectID(), bson.NewObjectID()
			e.insert("mcpservers", bson.D{{Key: "_id", Value: both}, {Key: "serverName", Value: "new"}, {Key: "mcp_id", Value: "old"}})
			e.insert("mcpservers", bson.D{{Key: "_id", Value: empty}, {Key: "serverName", Value: ""}, {Key: "mcp_id", Value: "fallback"}})
			e.grantUser(both, u, view)
			e.grantUser(empty, u, view)
			return u.Hex(), []string{"fallback", "new"}
		}},
		{"granted but deleted server", func(e env) (string, []string) {
			u := e.user("USER", "")
			e.grantUser(bson.NewObjectID(), u, view) // no such document
			s := e.server("gone")
			e.grantUser(s, u, view)
			require.NoError(e.t, e.lc.DeleteServer(e.ctx, s))
			e.grantUser(e.server("kept"), u, view)
			return u.Hex(), []string{"kept"}
		}},
		{"grant replaced by one without VIEW", func(e env) (string, []string) {
			u := e.user("USER", "")
			s := e.server("s")
			e.grantUser(s, u, view)
			e.grantUser(s, u, devstack.PermEdit)
			return u.Hex(), []string{}
		}},
		{"revoked user keeps group access", func(e env) (string, []string) {
			u := e.user("USER", "src")
			a, b := e.server("a"), e.server("b")
			e.grantUser(a, u, view)
			e.grantUser(b, u, view)
			e.grantGroup(b, e.group("g", "src"), view)
			require.NoError(e.t, e.lc.RevokeUser(e.ctx, a, u))
			require.NoError(e.t, e.lc.RevokeUser(e.ctx, b, u))
			return u.Hex(), []string{"b"}
		}},
		{"revoke all", func(e env) (string, []string) {
			u := e.user("USER", "src")
			s := e.server("s")
			e.grantUser(s, u, view)
			e.grantPublic(s, view)
			require.NoError(e.t, e.lc.RevokeAll(e.ctx, s))
			return u.Hex(), []string{}
		}},
		{"unknown user gets public and groups naming the raw id", func(e env) (string, []string) {
			ghost := bson.NewObjectID() // no users document
			e.grantUser(e.server("stale-user-grant"), ghost, view)
			e.grantPublic(e.server("pub"), view)
			e.grantGroup(e.server("by-raw-id"), e.group("g", ghost.Hex()), view)
			e.grantRole(e.server("role"), "USER", view)
			return ghost.Hex(), []string{"by-raw-id", "pub"}
		}},
		{"non-hex id gets public and groups naming the raw id", func(e env) (string, []string) {
			e.user("USER", "not-an-object-id")
			e.grantPublic(e.server("pub"), view)
			e.grantGroup(e.server("by-raw-id"), e.group("g", "not-an-object-id"), view)
			e.grantRole(e.server("role"), "USER", view)
			return "not-an-object-id", []string{"by-raw-id", "pub"}
		}},
		{"zero servers", func(e env) (string, []string) {
			return e.user("USER", "").Hex(), []string{}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			userID, want := tt.seed(e)
			got, err := e.store.AccessibleServers(t.Context(), userID)
			require.NoError(t, err)
			require.NotNil(t, got)
			assert.Equal(t, want, names(got))
		})
	}
}

// TestIntegrationSkippedAndDuplicates checks that odd server documents never
// fail a load: unnamed ones are skipped, duplicates resolved by updatedAt.
func TestIntegrationSkippedAndDuplicates(t *testing.T) {
	t.Parallel()
	m := startMongo(t)

	t.Run("unnamed skipped and counted", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, m)
		u := e.user("USER", "")
		for _, doc := range []bson.D{
			{{Key: "config", Value: bson.D{{Key: "url", Value: "x"}}}},
			{{Key: "serverName", Value: ""}, {Key: "mcp_id", Value: ""}},
			{{Key: "serverName", Value: int32(7)}},
		} {
			id := bson.NewObjectID()
			e.insert("mcpservers", append(bson.D{{Key: "_id", Value: id}}, doc...))
			e.grantUser(id, u, devstack.PermView)
		}
		e.grantUser(e.server("named"), u, devstack.PermView)

		got, err := e.store.AccessibleServers(t.Context(), u.Hex())
		require.NoError(t, err)
		assert.Equal(t, []string{"named"}, names(got))
		assert.Equal(t, serverdb.Stats{SkippedUnnamed: 3}, e.store.Stats())
	})

	t.Run("duplicate names keep newest updatedAt", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, m)
		u := e.user("USER", "")
		base := time.UnixMilli(1_700_000_000_000)
		old := e.serverAt("dup", base)
		newest := e.serverAt("dup", base.Add(2*time.Second))
		mid, err := e.lc.AddLegacyServer(e.ctx, "dup", nil, base.Add(time.Second))
		require.NoError(t, err)
		for _, id := range []bson.ObjectID{newest, old, mid} {
			e.grantUser(id, u, devstack.PermView)
		}

		got, err := e.store.AccessibleServers(t.Context(), u.Hex())
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, newest.Hex(), got[0].DBID)
		assert.Equal(t, base.Add(2*time.Second).UnixMilli(), got[0].UpdatedAtMs)
		assert.Equal(t, serverdb.Stats{DroppedDuplicates: 2}, e.store.Stats())
	})

	t.Run("duplicate names with equal updatedAt keep greatest id", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, m)
		u := e.user("USER", "")
		at := time.UnixMilli(1_700_000_000_000)
		first := e.serverAt("dup", at)
		second := e.serverAt("dup", at)
		e.grantUser(second, u, devstack.PermView)
		e.grantUser(first, u, devstack.PermView)

		got, err := e.store.AccessibleServers(t.Context(), u.Hex())
		require.NoError(t, err)
		require.Len(t, got, 1)
		want := max(first.Hex(), second.Hex())
		assert.Equal(t, want, got[0].DBID)
	})
}
