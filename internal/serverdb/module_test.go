package serverdb_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.uber.org/fx"

	"github.com/mcp-registry/worker/internal/serverdb"
)

// unreachableClient is a client that never dials (mongo.Connect is lazy).
func unreachableClient(t *testing.T) *mongo.Client {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

func TestModule(t *testing.T) {
	t.Parallel()
	client := unreachableClient(t)

	require.NoError(t, fx.ValidateApp(fx.Supply(client, serverdb.Config{}), serverdb.Module, fx.NopLogger))

	var store *serverdb.Store
	app := fx.New(fx.Supply(client, serverdb.Config{}), serverdb.Module, fx.NopLogger, fx.Populate(&store))
	require.NoError(t, app.Err())
	assert.NotNil(t, store)

	bad := fx.New(fx.Supply(client, serverdb.Config{QueryTimeout: -time.Second}), serverdb.Module,
		fx.NopLogger, fx.Populate(&store))
	assert.ErrorContains(t, bad.Err(), "query timeout")
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     serverdb.Config
		wantErr string
	}{
		{"zero means defaults", serverdb.Config{}, ""},
		{"explicit", serverdb.Config{Database: "chat_prod-1", QueryTimeout: time.Second}, ""},
		{"negative timeout", serverdb.Config{QueryTimeout: -1}, "negative"},
		{"dot in name", serverdb.Config{Database: "a.b"}, "contains"},
		{"slash in name", serverdb.Config{Database: "a/b"}, "contains"},
		{"space in name", serverdb.Config{Database: "a b"}, "contains"},
		{"dollar in name", serverdb.Config{Database: "a$"}, "contains"},
		{"too long", serverdb.Config{Database: string(make([]byte, 64))}, "longer than 63"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}
