package events

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultConfig(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	require.NoError(t, c.Validate())
	assert.Equal(t, "MCP_REGISTRY", c.Stream)
	assert.Equal(t, "MCP_REGISTRY_DLQ", c.DLQStream)
	assert.Equal(t, "mcp", c.Prefix)
	assert.Equal(t, "mcp-registry-worker", c.Consumer)
	assert.True(t, c.Provision)
	assert.Equal(t, 16, c.Concurrency)
	assert.Equal(t, 30*time.Second, c.HandlerTimeout)
	assert.Equal(t, 30*time.Second, c.AckWait)
	assert.Equal(t, 1000, c.MaxAckPending)
	assert.Equal(t, 7*24*time.Hour, c.StreamMaxAge)
	assert.Equal(t, DefaultMaxPayload, c.MaxPayload)
	assert.Equal(t, DefaultRetryPolicy(), c.Retry)
	assert.Equal(t, Subjects{Prefix: "mcp"}, c.Subjects())
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"multi-token prefix", func(c *Config) { c.Prefix = "acme.mcp" }, ""},
		{"keep forever", func(c *Config) { c.StreamMaxAge = 0 }, ""},
		{"empty stream", func(c *Config) { c.Stream = "" }, "stream name"},
		{"dotted stream", func(c *Config) { c.Stream = "A.B" }, "stream name"},
		{"spaced consumer", func(c *Config) { c.Consumer = "a b" }, "consumer name"},
		{"wildcard dlq", func(c *Config) { c.DLQStream = "D*" }, "dead-letter stream name"},
		{"same streams", func(c *Config) { c.DLQStream = c.Stream }, "both"},
		{"audit stream is the stream", func(c *Config) { c.AuditStream = c.Stream }, "audit stream"},
		{"audit stream is the dlq", func(c *Config) { c.AuditStream = c.DLQStream }, "audit stream"},
		{"dotted audit stream", func(c *Config) { c.AuditStream = "A.B" }, "audit stream name"},
		{"audit max age inside its duplicate window", func(c *Config) { c.AuditMaxAge = time.Minute }, "audit max age"},
		{"empty prefix", func(c *Config) { c.Prefix = "" }, "subject prefix"},
		{"wildcard prefix", func(c *Config) { c.Prefix = "mcp.*" }, "subject prefix"},
		{"empty token prefix", func(c *Config) { c.Prefix = "mcp..x" }, "subject prefix"},
		{"no concurrency", func(c *Config) { c.Concurrency = 0 }, "concurrency"},
		{"no handler timeout", func(c *Config) { c.HandlerTimeout = 0 }, "handler timeout"},
		{"tiny ack wait", func(c *Config) { c.AckWait = time.Millisecond }, "ack wait"},
		{"max ack pending below concurrency", func(c *Config) { c.MaxAckPending = 8 }, "max ack pending"},
		{"max age inside duplicate window", func(c *Config) { c.StreamMaxAge = time.Minute }, "max age"},
		{"negative max age", func(c *Config) { c.StreamMaxAge = -time.Hour }, "max age"},
		{"no payload", func(c *Config) { c.MaxPayload = 0 }, "max payload"},
		{"bad retry", func(c *Config) { c.Retry.MaxDeliver = 0 }, "retry"},
		{"notify prefix", func(c *Config) { c.NotifyPrefix = "acme.replies" }, ""},
		{"notify prefix wildcard", func(c *Config) { c.NotifyPrefix = "r.*" }, "notify prefix"},
		{"notify prefix dollar", func(c *Config) { c.NotifyPrefix = "$JS" }, "must not be a $ subject"},
		{"notify prefix is the prefix", func(c *Config) { c.NotifyPrefix = "mcp" }, "overlaps"},
		{"notify prefix under the prefix", func(c *Config) { c.NotifyPrefix = "mcp.dlq" }, "overlaps"},
		{"notify prefix above the prefix", func(c *Config) { c.Prefix, c.NotifyPrefix = "acme.mcp", "acme" }, "overlaps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultConfig()
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestValidSubject(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"reply.x": true, "_INBOX.abc.1": true, "x": true,
		"": false, "a.>": false, "a.*.b": false, "a b": false, "a..b": false, ".a": false,
	} {
		assert.Equal(t, want, validSubject(s), s)
	}
}
