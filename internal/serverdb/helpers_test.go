package serverdb_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/serverdb"
	"github.com/mcp-registry/worker/internal/testenv"
)

// startMongo is testenv.StartMongo (devstack.StartMongo serialises the
// FerretDB starts itself).
func startMongo(t *testing.T) *testenv.Mongo {
	t.Helper()
	return testenv.StartMongo(t)
}

// dbSeq names one database per subtest, so subtests share a FerretDB but no data.
var dbSeq atomic.Int64

// seed wraps devstack.LibreChat for tests: every write must succeed.
type seed struct {
	t   *testing.T
	ctx context.Context
	lc  devstack.LibreChat
}

// env is one isolated database on a shared FerretDB with a Store on it.
type env struct {
	seed
	db    *mongo.Database
	store *serverdb.Store
}

// newEnv opens a fresh database on m's client.
func newEnv(t *testing.T, m *testenv.Mongo) env {
	t.Helper()
	name := fmt.Sprintf("serverdb_%d", dbSeq.Add(1))
	db := m.Client.Database(name)
	return env{
		seed:  seed{t: t, ctx: t.Context(), lc: devstack.LibreChat{DB: db}},
		db:    db,
		store: serverdb.New(m.Client, serverdb.Config{Database: name}),
	}
}

func (s seed) user(role, idOnTheSource string) bson.ObjectID {
	s.t.Helper()
	id, err := s.lc.AddUser(s.ctx, role, idOnTheSource)
	require.NoError(s.t, err)
	return id
}

func (s seed) group(name string, members ...string) bson.ObjectID {
	s.t.Helper()
	id, err := s.lc.AddGroup(s.ctx, name, members...)
	require.NoError(s.t, err)
	return id
}

// server adds a server whose config is {"url": "https://<name>"}.
func (s seed) server(name string) bson.ObjectID {
	s.t.Helper()
	return s.serverAt(name, time.UnixMilli(1_700_000_000_000))
}

func (s seed) serverAt(name string, updatedAt time.Time) bson.ObjectID {
	s.t.Helper()
	id, err := s.lc.AddServer(s.ctx, name, map[string]any{"url": "https://" + name}, updatedAt)
	require.NoError(s.t, err)
	return id
}

func (s seed) grantUser(server, user bson.ObjectID, bits int) {
	s.t.Helper()
	require.NoError(s.t, s.lc.GrantUser(s.ctx, server, user, bits))
}

func (s seed) grantGroup(server, group bson.ObjectID, bits int) {
	s.t.Helper()
	require.NoError(s.t, s.lc.GrantGroup(s.ctx, server, group, bits))
}

func (s seed) grantRole(server bson.ObjectID, role string, bits int) {
	s.t.Helper()
	require.NoError(s.t, s.lc.GrantRole(s.ctx, server, role, bits))
}

func (s seed) grantPublic(server bson.ObjectID, bits int) {
	s.t.Helper()
	require.NoError(s.t, s.lc.GrantPublic(s.ctx, server, bits))
}

// insert writes a raw document, for shapes the fixture does not make.
func (s seed) insert(coll string, doc any) {
	s.t.Helper()
	_, err := s.lc.DB.Collection(coll).InsertOne(s.ctx, doc)
	require.NoError(s.t, err)
}

// names returns the servers' names in order.
func names(servers []serverdb.Server) []string {
	out := make([]string, 0, len(servers))
	for _, s := range servers {
		out = append(out, s.Name)
	}
	return out
}

// in returns a seed that writes into tenant.
func (s seed) in(tenant string) seed {
	s.lc = s.lc.InTenant(tenant)
	return s
}

func (s seed) agent(name string, servers ...string) bson.ObjectID {
	s.t.Helper()
	id, err := s.lc.AddAgent(s.ctx, name, servers)
	require.NoError(s.t, err)
	return id
}

func (s seed) grantAgent(agent bson.ObjectID, p devstack.Principal, bits int) {
	s.t.Helper()
	require.NoError(s.t, s.lc.GrantAgent(s.ctx, agent, p, bits))
}

// consumeOnly returns the names of the servers reached only through agents.
func consumeOnly(servers []serverdb.Server) []string {
	out := []string{}
	for _, s := range servers {
		if s.ConsumeOnly {
			out = append(out, s.Name)
		}
	}
	return out
}
