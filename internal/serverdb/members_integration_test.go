package serverdb_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// chunks collects what a streaming callback receives.
type chunks struct {
	sizes []int
	ids   []string
}

func (c *chunks) fn(ids []string) error {
	c.sizes = append(c.sizes, len(ids))
	c.ids = append(c.ids, ids...)
	return nil
}

// set returns the distinct ids, sorted, after checking that no chunk is
// larger than ChunkSize or holds an id twice.
func (c *chunks) set(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	at := 0
	for _, n := range c.sizes {
		assert.LessOrEqual(t, n, serverdb.ChunkSize)
		inChunk := map[string]bool{}
		for _, id := range c.ids[at : at+n] {
			assert.False(t, inChunk[id], "duplicate %s inside one chunk", id)
			inChunk[id] = true
			seen[id] = true
		}
		at += n
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func sortedHex(ids ...bson.ObjectID) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, id.Hex())
	}
	sort.Strings(out)
	return out
}

// bigGroup inserts n users in s's tenant and a group "big" listing them, half
// by idOnTheSource and half by _id hex, plus keys naming nobody. It returns
// the group and the users.
func bigGroup(e env, s seed, n int, idOnTheSource string) (bson.ObjectID, []bson.ObjectID) {
	users := make([]bson.ObjectID, n)
	docs := make([]any, n)
	members := make([]string, 0, n+2)
	for i := range n {
		users[i] = bson.NewObjectID()
		src := fmt.Sprintf("member-%d", i)
		doc := bson.D{{Key: "_id", Value: users[i]}, {Key: "idOnTheSource", Value: src}}
		if s.lc.Tenant != "" {
			doc = append(doc, bson.E{Key: "tenantId", Value: s.lc.Tenant})
		}
		docs[i] = doc
		if i%2 == 0 {
			members = append(members, src)
		} else {
			members = append(members, users[i].Hex())
		}
	}
	_, err := e.db.Collection("users").InsertMany(e.ctx, docs)
	require.NoError(e.t, err)
	members = append(members, "nobody", bson.NewObjectID().Hex())
	var g bson.ObjectID
	if idOnTheSource != "" {
		g, err = s.lc.AddSourceGroup(e.ctx, "big", idOnTheSource, members...)
	} else {
		g, err = s.lc.AddGroup(e.ctx, "big", members...)
	}
	require.NoError(e.t, err)
	return g, users
}

// TestIntegrationAllowedUsers checks the exact users streamed for a server,
// their chunking and the public flag, with a 5,000-member group (2,500 under
// the race detector, which slows the in-process FerretDB: 25 s instead of
// 3 s for 5,000).
func TestIntegrationAllowedUsers(t *testing.T) {
	t.Parallel()
	m := startMongo(t)
	e := newEnv(t, m)
	view := devstack.PermView
	acme, other := e.in("acme"), e.in("")

	size := 5000
	if raceEnabled {
		size = 2500
	}
	start := time.Now()
	g, members := bigGroup(e, acme, size, "")
	t.Logf("seeded %d members in %s", size, time.Since(start))
	direct := acme.user("USER", "direct-src")
	admins := []bson.ObjectID{acme.user("ADMIN", ""), acme.user("ADMIN", ""), acme.user("ADMIN", "")}
	editor := acme.user("USER", "")
	s := acme.server("s")
	acme.grantUser(s, direct, view|devstack.PermEdit)
	acme.grantUser(s, members[0], view) // also in the group: a duplicate
	acme.grantUser(s, editor, devstack.PermEdit)
	acme.grantGroup(s, g, view)
	acme.grantRole(s, "ADMIN", view)
	legacy, err := acme.lc.AddLegacyServer(e.ctx, "s", nil, time.Time{}) // same name, legacy
	require.NoError(t, err)
	legacyUser := acme.user("USER", "")
	acme.grantUser(legacy, legacyUser, view)
	// the default tenant: same names, same idOnTheSource values, same role
	otherAdmin := other.user("ADMIN", "member-0")
	otherS := other.server("s")
	other.grantRole(otherS, "ADMIN", view)
	other.grantGroup(otherS, other.group("big", "member-0", "member-2"), view)
	other.grantPublic(otherS, view)
	// an acme entry naming a user of the default tenant does not count
	acme.grantUser(s, otherAdmin, view)

	want := append(append([]bson.ObjectID{direct, legacyUser}, members...), admins...)
	t.Run("acme", func(t *testing.T) {
		var c chunks
		start := time.Now()
		public, err := e.store.AllowedUsers(t.Context(), "acme", "s", c.fn)
		t.Logf("streamed in %s: chunks %v", time.Since(start), c.sizes)
		require.NoError(t, err)
		assert.False(t, public)
		assert.Equal(t, sortedHex(want...), c.set(t))
		require.NotEmpty(t, c.sizes)
		for _, n := range c.sizes[:len(c.sizes)-1] {
			assert.Equal(t, serverdb.ChunkSize, n, "every chunk but the last is full")
		}
	})
	t.Run("default tenant, public", func(t *testing.T) {
		var c chunks
		public, err := e.store.AllowedUsers(t.Context(), "", "s", c.fn)
		require.NoError(t, err)
		assert.True(t, public)
		assert.Equal(t, sortedHex(otherAdmin), c.set(t), "member-0 is otherAdmin; member-2 is nobody here")
	})
	t.Run("unknown server or tenant", func(t *testing.T) {
		for _, tc := range [][2]string{{"acme", "nope"}, {"globex", "s"}} {
			public, err := e.store.AllowedUsers(t.Context(), tc[0], tc[1], func([]string) error {
				t.Errorf("no call expected for %v", tc)
				return nil
			})
			require.NoError(t, err)
			assert.False(t, public)
		}
	})
	t.Run("callback error stops the stream", func(t *testing.T) {
		boom := errors.New("boom")
		calls := 0
		public, err := e.store.AllowedUsers(t.Context(), "acme", "s", func([]string) error {
			calls++
			return boom
		})
		require.ErrorIs(t, err, boom)
		assert.False(t, public)
		assert.Equal(t, 1, calls)
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := e.store.AllowedUsers(ctx, "acme", "s", func([]string) error { return nil })
		require.ErrorIs(t, err, context.Canceled)
	})
}

// TestIntegrationGroupMembers checks members by group _id and idOnTheSource,
// mapped to user ids within the tenant.
func TestIntegrationGroupMembers(t *testing.T) {
	t.Parallel()
	m := startMongo(t)
	e := newEnv(t, m)
	acme, other := e.in("acme"), e.in("")
	g, members := bigGroup(e, acme, 1100, "entra-big")
	otherUser := other.user("USER", "member-0")
	otherG, err := other.lc.AddSourceGroup(e.ctx, "big", "entra-big", "member-0", "member-4")
	require.NoError(t, err)

	for _, tc := range []struct {
		name, tenant, group string
		want                []string
	}{
		{"acme by _id", "acme", g.Hex(), sortedHex(members...)},
		{"acme by idOnTheSource", "acme", "entra-big", sortedHex(members...)},
		{"default by idOnTheSource", "", "entra-big", sortedHex(otherUser)},
		{"default by _id", "", otherG.Hex(), sortedHex(otherUser)},
		{"acme group asked in the default tenant", "", g.Hex(), []string{}},
		{"unknown", "acme", "nope", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c chunks
			require.NoError(t, e.store.GroupMembers(t.Context(), tc.tenant, tc.group, c.fn))
			assert.Equal(t, tc.want, c.set(t))
		})
	}
}

// TestIntegrationGroupServers checks the servers a group reaches directly
// and through agents, per tenant.
func TestIntegrationGroupServers(t *testing.T) {
	t.Parallel()
	m := startMongo(t)
	e := newEnv(t, m)
	view := devstack.PermView
	groups := map[string]bson.ObjectID{}
	for _, tenant := range []string{"", "acme"} {
		s := e.in(tenant)
		g, err := s.lc.AddSourceGroup(e.ctx, "eng", "entra-eng", "someone")
		require.NoError(t, err)
		groups[tenant] = g
		s.grantGroup(s.server("team-"+tenant), g, view)
		s.grantGroup(s.server("edit-only"), g, devstack.PermEdit)
		s.grantPublic(s.server("pub"), view)
		s.server("via-agent-" + tenant)
		s.grantAgent(s.agent("helper", "via-agent-"+tenant, "team-"+tenant, "missing"), devstack.GroupPrincipal(g), view)
		s.grantAgent(s.agent("public", "pub"), devstack.PublicPrincipal(), view)
	}
	for _, tc := range []struct {
		name, tenant, group string
		want                []string
	}{
		{"acme by idOnTheSource", "acme", "entra-eng", []string{"team-acme", "via-agent-acme"}},
		{"acme by _id", "acme", groups["acme"].Hex(), []string{"team-acme", "via-agent-acme"}},
		{"default", "", "entra-eng", []string{"team-", "via-agent-"}},
		{"other tenant's group", "acme", groups[""].Hex(), []string{}},
		{"unknown", "", "nope", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.store.GroupServers(t.Context(), tc.tenant, tc.group)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
