package registry_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/mcp-registry/worker/internal/registry"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := registry.DefaultConfig()
	require.NoError(t, ok.Validate())
	assert.Equal(t, registry.Config{KeyPrefix: "mcp:", CacheTTL: time.Hour, PendingTTL: 5 * time.Minute, TombstoneTTL: 8 * 24 * time.Hour}, ok)
	tests := []struct {
		name   string
		change func(*registry.Config)
	}{
		{"cache ttl under 1s", func(c *registry.Config) { c.CacheTTL = 999 * time.Millisecond }},
		{"pending ttl under 1s", func(c *registry.Config) { c.PendingTTL = 0 }},
		{"prefix with {", func(c *registry.Config) { c.KeyPrefix = "a{" }},
		{"prefix with }", func(c *registry.Config) { c.KeyPrefix = "}a" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := registry.DefaultConfig()
			tt.change(&c)
			assert.Error(t, c.Validate())
		})
	}
	empty := registry.DefaultConfig()
	empty.KeyPrefix = ""
	assert.NoError(t, empty.Validate(), "an empty prefix is allowed")
}

func TestModule(t *testing.T) {
	t.Parallel()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:0"})
	t.Cleanup(func() { _ = client.Close() })
	provide := func(cfg registry.Config) fx.Option {
		return fx.Options(registry.Module,
			fx.Supply(fx.Annotate(client, fx.As(new(redis.UniversalClient)))),
			fx.Supply(cfg))
	}
	require.NoError(t, fx.ValidateApp(provide(registry.DefaultConfig()), fx.Invoke(func(*registry.Registry) {})))

	var reg *registry.Registry
	app := fx.New(provide(registry.DefaultConfig()), fx.Populate(&reg), fx.NopLogger)
	require.NoError(t, app.Err())
	assert.Equal(t, "mcp:{u:a}:m", reg.Keys().UserMembers("a"))

	bad := registry.DefaultConfig()
	bad.KeyPrefix = "{x}"
	assert.Error(t, fx.New(provide(bad), fx.Populate(&reg), fx.NopLogger).Err())
}
