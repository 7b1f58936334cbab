package registry

import (
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/reader"
)

// Config sets the registry's key prefix and cache lifetime.
type Config struct {
	// KeyPrefix starts every key (--key-prefix); no '{' or '}'.
	KeyPrefix string
	// CacheTTL is the one TTL of a user's registry and loaded flag (--cache-ttl).
	CacheTTL time.Duration
	// PendingTTL bounds how long a load may run before its pending hash
	// expires and its commit is refused (a crashed load leaves nothing behind
	// for longer than this).
	PendingTTL time.Duration
	// TombstoneTTL is how long a deleted server's record (its versions)
	// outlives the delete: longer than any older event can still arrive
	// (the stream's retention), then the keys go (--tombstone-ttl).
	TombstoneTTL time.Duration
}

// DefaultTombstoneTTL is 8 days: a day more than the stream's default retention.
const DefaultTombstoneTTL = 8 * 24 * time.Hour

// DefaultConfig returns the prefix "mcp:", a 1 h cache and a 5 min load bound.
func DefaultConfig() Config {
	return Config{KeyPrefix: "mcp:", CacheTTL: time.Hour, PendingTTL: 5 * time.Minute, TombstoneTTL: DefaultTombstoneTTL}
}

// Validate reports a setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.CacheTTL < time.Second:
		return errors.New("cache ttl must be at least 1s")
	case c.PendingTTL < time.Second:
		return errors.New("pending ttl must be at least 1s")
	case c.TombstoneTTL < 0:
		return errors.New("tombstone ttl must not be negative")
	}
	for _, r := range c.KeyPrefix {
		if r == '{' || r == '}' {
			return errors.New("key prefix must not contain '{' or '}'")
		}
	}
	return nil
}

// Registry reads and writes the registry in Redis. It is safe for concurrent use.
type Registry struct {
	rdb    redis.UniversalClient
	keys   Keys
	cfg    Config
	reader *reader.Reader
	loaded *existsBatcher
}

// New returns a Registry on client (single, failover or cluster).
func New(client redis.UniversalClient, cfg Config) *Registry {
	rd, _ := reader.New(client, reader.Options{KeyPrefix: cfg.KeyPrefix}) // no creds key: cannot fail
	return &Registry{
		rdb: client, keys: NewKeys(cfg.KeyPrefix), cfg: cfg, reader: rd,
		loaded: newExistsBatcher(client, loadedPipelines, loadedBatch),
	}
}

// Keys returns the key builders (for lock keys and for readers).
func (r *Registry) Keys() Keys { return r.keys }

// Client returns the Redis client.
func (r *Registry) Client() redis.UniversalClient { return r.rdb }
