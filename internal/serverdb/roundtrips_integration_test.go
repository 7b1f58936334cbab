package serverdb_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// commandLog records the commands a client sends.
type commandLog struct {
	mu   sync.Mutex
	cmds []string // "find users +maxTimeMS", "find groups", "getMore aclentries", ...
	// bitsAllSet counts commands that spell $bitsAllSet anywhere: Cosmos DB
	// and DocumentDB lack it, so none may.
	bitsAllSet int
	permBits   int // commands that test permBits at all
}

func (l *commandLog) started(_ context.Context, e *event.CommandStartedEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	coll, _ := e.Command.Lookup(e.CommandName).StringValueOK()
	cmd := e.CommandName + " " + coll
	if _, err := e.Command.LookupErr("maxTimeMS"); err == nil {
		cmd += " +maxTimeMS"
	}
	l.cmds = append(l.cmds, cmd)
	if bytes.Contains(e.Command, []byte("$bitsAllSet")) {
		l.bitsAllSet++
	}
	if bytes.Contains(e.Command, []byte("permBits")) {
		l.permBits++
	}
}

func (l *commandLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	cmds := l.cmds
	l.cmds = nil
	return cmds
}

// TestIntegrationRoundTrips counts the commands of one login with a command
// monitor: the numbers documented in doc.go. It also checks that no command
// spells $bitsAllSet. The users lookup (FindOne)
// carries maxTimeMS from the QueryTimeout deadline, and FerretDB accepts it;
// the driver leaves maxTimeMS off cursor finds (DRIVERS-2722), which the
// deadline then bounds on the client side.
func TestIntegrationRoundTrips(t *testing.T) {
	t.Parallel()
	m := startMongo(t)
	log := &commandLog{}
	client, err := mongo.Connect(options.Client().ApplyURI(m.URI).
		SetMonitor(&event.CommandMonitor{Started: log.started}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	// After every subtest: permBits was tested, never with $bitsAllSet.
	t.Cleanup(func() {
		log.mu.Lock()
		defer log.mu.Unlock()
		assert.Positive(t, log.permBits, "the monitor saw the ACL queries")
		assert.Zero(t, log.bitsAllSet, "no command may use $bitsAllSet")
	})
	view := devstack.PermView
	full := []string{"find users +maxTimeMS", "find groups", "find aclentries", "find mcpservers"}
	withAgents := []string{"find users +maxTimeMS", "find groups", "find aclentries", "find agents", "find mcpservers"}

	tests := []struct {
		name    string
		seed    func(e env) (userID string, wantServers int)
		want    []string
		comment string
	}{
		{"known user with grants", func(e env) (string, int) {
			u := e.user("USER", "src")
			e.grantGroup(e.server("g"), e.group("g", "src"), view)
			e.grantUser(e.server("u"), u, view)
			return u.Hex(), 2
		}, full, "4 sequential round trips"},
		{"known user with server and agent grants", func(e env) (string, int) {
			u := e.user("USER", "src")
			e.grantUser(e.server("u"), u, view)
			e.server("a")
			e.grantAgent(e.agent("helper", "a", "u"), devstack.UserPrincipal(u), view)
			e.grantAgent(e.agent("public", "a"), devstack.PublicPrincipal(), view)
			return u.Hex(), 2
		}, withAgents, "5: agents between aclentries and mcpservers"},
		{"known user with agent grants only", func(e env) (string, int) {
			u := e.user("USER", "src")
			e.server("a")
			e.grantAgent(e.agent("helper", "a"), devstack.GroupPrincipal(e.group("g", "src")), view)
			return u.Hex(), 1
		}, withAgents, "servers found by name alone"},
		{"agent naming no server", func(e env) (string, int) {
			u := e.user("USER", "src")
			e.grantAgent(e.agent("helper", nil...), devstack.UserPrincipal(u), view)
			return u.Hex(), 0
		}, withAgents[:4], "no names: mcpservers not queried"},
		{"known user without grants", func(e env) (string, int) {
			e.grantUser(e.server("other"), bson.NewObjectID(), view)
			return e.user("USER", "").Hex(), 0
		}, full[:3], "no grant: mcpservers not queried"},
		{"non-hex user with a public server", func(e env) (string, int) {
			e.grantPublic(e.server("pub"), view)
			return "not-hex", 1
		}, full[1:], "no ObjectId: users not queried"},
		{"non-hex user without grants", func(e env) (string, int) {
			return "not-hex", 0
		}, full[1:3], "only groups and aclentries"},
		{"beyond the driver's default batch of 101", func(e env) (string, int) {
			u := e.user("USER", "src")
			var servers, groups, acl []any
			for i := range 150 {
				s, g := bson.NewObjectID(), bson.NewObjectID()
				servers = append(servers, bson.D{{Key: "_id", Value: s}, {Key: "serverName", Value: fmt.Sprintf("s%03d", i)}})
				groups = append(groups, bson.D{{Key: "_id", Value: g}, {Key: "memberIds", Value: bson.A{"src"}}})
				acl = append(acl,
					bson.D{
						{Key: "principalType", Value: "group"},
						{Key: "principalId", Value: g},
						{Key: "resourceType", Value: "mcpServer"},
						{Key: "resourceId", Value: s},
						{Key: "permBits", Value: int32(1)},
					},
					bson.D{
						{Key: "principalType", Value: "public"},
						{Key: "resourceType", Value: "mcpServer"},
						{Key: "resourceId", Value: s},
						{Key: "permBits", Value: int32(1)},
					})
			}
			for coll, docs := range map[string][]any{"mcpservers": servers, "groups": groups, "aclentries": acl} {
				_, err := e.db.Collection(coll).InsertMany(e.ctx, docs)
				require.NoError(e.t, err)
			}
			return u.Hex(), 150
		}, full, "no getMore for 150 groups, 300 entries, 150 servers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			userID, wantServers := tt.seed(e)
			store := serverdb.New(client, serverdb.Config{Database: e.db.Name()})
			// the monitor is shared: one subtest at a time clears and reads it
			roundTripMu.Lock()
			log.take()
			got, err := store.AccessibleServers(t.Context(), userID)
			cmds := log.take()
			roundTripMu.Unlock()
			require.NoError(t, err)
			assert.Len(t, got, wantServers)
			assert.Equal(t, tt.want, cmds, tt.comment)
		})
	}
}

// roundTripMu keeps parallel subtests from mixing their commands in the log.
var roundTripMu sync.Mutex
