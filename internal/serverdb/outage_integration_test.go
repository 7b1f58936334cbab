package serverdb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// TestIntegrationStoppedServer checks that an outage is an error, never an
// empty or partial result.
func TestIntegrationStoppedServer(t *testing.T) {
	t.Parallel()
	srv, err := devstack.StartMongo(devstack.MongoOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			srv.Close()
		}
	})
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI).
		SetServerSelectionTimeout(500 * time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })

	ctx := t.Context()
	lc := devstack.LibreChat{DB: client.Database(serverdb.DefaultDatabase)}
	u, err := lc.AddUser(ctx, "USER", "")
	require.NoError(t, err)
	s, err := lc.AddServer(ctx, "s", map[string]any{"k": "v"}, time.Now())
	require.NoError(t, err)
	require.NoError(t, lc.GrantPublic(ctx, s, devstack.PermView))
	store := serverdb.New(client, serverdb.Config{QueryTimeout: 3 * time.Second})
	require.NoError(t, store.Ping(ctx))
	got, err := store.AccessibleServers(ctx, u.Hex())
	require.NoError(t, err)
	require.Len(t, got, 1)

	srv.Close()
	stopped = true

	start := time.Now()
	got, err = store.AccessibleServers(ctx, u.Hex())
	require.Error(t, err)
	assert.Nil(t, got)
	assert.Contains(t, err.Error(), "accessible servers for user \""+u.Hex()+"\": ")
	t.Logf("outage error after %s: %v", time.Since(start), err)
	assert.Less(t, time.Since(start), 4*time.Second, "bounded by QueryTimeout")
	assert.True(t, serverdb.Unreachable(ctx, err), "an outage is classified as MongoDB unreachable: %v", err)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.False(t, serverdb.Unreachable(cancelled, err), "the caller's own end is not MongoDB's")
	assert.Error(t, store.Ping(ctx))
}

// TestIntegrationUnreachableIsNotTheData checks that errors of a live
// MongoDB (a bad users document, a missing user) are never classified as
// MongoDB unreachable.
func TestIntegrationUnreachableIsNotTheData(t *testing.T) {
	t.Parallel()
	m := startMongo(t)
	e := newEnv(t, m)
	ctx := t.Context()
	oid, err := bson.ObjectIDFromHex("65a000000000000000000001")
	require.NoError(t, err)
	_, err = e.db.Collection("users").InsertOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "tenantId", Value: 42}})
	require.NoError(t, err)
	_, err = e.store.UserTenant(ctx, "65a000000000000000000001")
	require.ErrorIs(t, err, serverdb.ErrNoTenant)
	assert.False(t, serverdb.Unreachable(ctx, err))
	for _, err := range []error{mongo.ErrNoDocuments, errors.New("decode: bad"), nil} {
		assert.False(t, serverdb.Unreachable(ctx, err), "%v", err)
	}
}

// TestIntegrationDeadlines checks QueryTimeout and the caller's context.
func TestIntegrationDeadlines(t *testing.T) {
	t.Parallel()
	m := startMongo(t)
	e := newEnv(t, m)
	u := e.user("USER", "")
	e.grantPublic(e.server("s"), devstack.PermView)

	t.Run("query timeout", func(t *testing.T) {
		store := serverdb.New(m.Client, serverdb.Config{Database: e.db.Name(), QueryTimeout: time.Nanosecond})
		got, err := store.AccessibleServers(t.Context(), u.Hex())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Nil(t, got)
	})
	t.Run("caller cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		got, err := e.store.AccessibleServers(ctx, u.Hex())
		require.ErrorIs(t, err, context.Canceled)
		assert.Nil(t, got)
	})
	t.Run("ping", func(t *testing.T) {
		require.NoError(t, e.store.Ping(t.Context()))
	})
}
