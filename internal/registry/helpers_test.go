package registry_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/testenv"
)

// testCacheTTL and testPendingTTL are the lifetimes the integration tests use.
const (
	testCacheTTL   = time.Hour
	testPendingTTL = time.Minute
)

// newRegistry returns a Registry on the shared test Redis under a key prefix
// of this test's own, and the raw client for checks.
func newRegistry(t *testing.T) (*registry.Registry, *redis.Client) {
	t.Helper()
	client, prefix := testenv.Redis(t)
	return registry.New(client, registry.Config{KeyPrefix: prefix, CacheTTL: testCacheTTL, PendingTTL: testPendingTTL}), client
}

// holdLock sets a lock key to token, as redsync would.
func holdLock(t *testing.T, c *redis.Client, key, token string) {
	t.Helper()
	require.NoError(t, c.Set(t.Context(), key, token, time.Minute).Err())
}

// beginLoad holds the user's lock with token and begins a load.
func beginLoad(t *testing.T, reg *registry.Registry, c *redis.Client, user, token string) {
	t.Helper()
	holdLock(t, c, reg.Keys().UserLock(user), token)
	began, _, err := reg.BeginLoad(t.Context(), user, token)
	require.NoError(t, err)
	require.True(t, began)
}

// loadUser runs a whole login load of entries for user.
func loadUser(t *testing.T, reg *registry.Registry, c *redis.Client, user string, entries ...registry.Entry) {
	t.Helper()
	tok := "load-" + user
	beginLoad(t, reg, c, user, tok)
	n, err := reg.CommitLoad(t.Context(), user, tok, entries)
	require.NoError(t, err)
	require.Equal(t, len(entries), n)
}

// pexpireTime returns PEXPIRETIME of key (-2 missing, -1 no expiry).
func pexpireTime(t *testing.T, c *redis.Client, key string) int64 {
	t.Helper()
	ms, err := c.Do(t.Context(), "PEXPIRETIME", key).Int64()
	require.NoError(t, err)
	return ms
}

// exists reports whether key exists.
func exists(t *testing.T, c *redis.Client, key string) bool {
	t.Helper()
	n, err := c.Exists(t.Context(), key).Result()
	require.NoError(t, err)
	return n == 1
}

// hgetAll returns a hash's fields (empty when the key is missing).
func hgetAll(t *testing.T, c *redis.Client, key string) map[string]string {
	t.Helper()
	m, err := c.HGetAll(t.Context(), key).Result()
	require.NoError(t, err)
	return m
}

// members returns a set's members (empty when missing), sorted by the caller if needed.
func members(t *testing.T, c *redis.Client, key string) []string {
	t.Helper()
	m, err := c.SMembers(t.Context(), key).Result()
	require.NoError(t, err)
	return m
}

// redisNowMs is the Redis server's clock in Unix ms.
func redisNowMs(t *testing.T, c *redis.Client) int64 {
	t.Helper()
	now, err := c.Time(context.Background()).Result()
	require.NoError(t, err)
	return now.UnixMilli()
}

// slotTag is the part of key that Redis Cluster hashes: the text between the
// first '{' and the next '}' when that is non-empty, else the whole key.
func slotTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return key
	}
	return key[open+1 : open+1+end]
}
