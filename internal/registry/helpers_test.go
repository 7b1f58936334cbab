package registry_test

import (
	"context"
	"encoding/json"
	"errors"
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

// srvToken is the server lock token the record tests hold.
const srvToken = "tok"

// newRegistry returns a Registry on the shared test Redis under a key prefix
// of this test's own, and the raw client for checks.
func newRegistry(t *testing.T) (*registry.Registry, redis.UniversalClient) {
	t.Helper()
	client, prefix := testenv.DefaultRedis(t)
	return registry.New(client, registry.Config{KeyPrefix: prefix, CacheTTL: testCacheTTL, PendingTTL: testPendingTTL}), client
}

// holdLock sets a lock key to token, as redsync would.
func holdLock(t *testing.T, c redis.UniversalClient, key, token string) {
	t.Helper()
	require.NoError(t, c.Set(t.Context(), key, token, time.Minute).Err())
}

// beginLoad holds the user's lock with token and begins a load.
func beginLoad(t *testing.T, reg *registry.Registry, c redis.UniversalClient, user, token string) {
	t.Helper()
	holdLock(t, c, reg.Keys().UserLock(user), token)
	began, _, err := reg.BeginLoad(t.Context(), user, token, registry.ModeLogin)
	require.NoError(t, err)
	require.True(t, began)
}

// loadUser runs a whole login load of entries for user.
func loadUser(t *testing.T, reg *registry.Registry, c redis.UniversalClient, user string, entries ...registry.Entry) {
	t.Helper()
	tok := "load-" + user
	beginLoad(t, reg, c, user, tok)
	n, err := reg.CommitLoad(t.Context(), user, tok, "", entries)
	require.NoError(t, err)
	require.Equal(t, len(entries), n)
}

// change applies ch under the server's lock (taken with srvToken).
func change(t *testing.T, reg *registry.Registry, c redis.UniversalClient, ch registry.Change) registry.ApplyResult {
	t.Helper()
	holdLock(t, c, reg.Keys().ServerLock(ch.Server), srvToken)
	res, err := reg.ApplyChange(t.Context(), srvToken, ch)
	require.NoError(t, err)
	return res
}

// createServer runs the flow of a server that gets config at version (scope,
// allowed set, record, value, fan-out finished) and returns its record.
func createServer(t *testing.T, reg *registry.Registry, c redis.UniversalClient, name string, version int64, scope registry.Scope, config string, allowed ...string) registry.Record {
	t.Helper()
	res := change(t, reg, c, registry.Change{
		Server: name, Version: version, Config: json.RawMessage(config), Scope: scope,
		SetsAccess: scope == registry.ScopePrivate, Allowed: allowed, UpdatedAtMs: 1700000000000,
	})
	require.NoError(t, reg.PutValue(t.Context(), srvToken, res.Record, "id-"+name))
	tier := registry.Tier("")
	if scope == registry.ScopePublic {
		tier = registry.TierFor(json.RawMessage(config))
		require.NoError(t, reg.PutTier(t.Context(), name, tier, res.Record.Rev))
	}
	require.NoError(t, reg.FinishFanout(t.Context(), srvToken, name, tier, true))
	rec, err := reg.Record(t.Context(), name)
	require.NoError(t, err)
	return rec
}

// pexpireTime returns PEXPIRETIME of key (-2 missing, -1 no expiry).
func pexpireTime(t *testing.T, c redis.UniversalClient, key string) int64 {
	t.Helper()
	ms, err := c.Do(t.Context(), "PEXPIRETIME", key).Int64()
	require.NoError(t, err)
	return ms
}

// pttl returns PTTL of key (negative when missing or without expiry).
func pttl(t *testing.T, c redis.UniversalClient, key string) time.Duration {
	t.Helper()
	d, err := c.PTTL(t.Context(), key).Result()
	require.NoError(t, err)
	return d
}

// exists reports whether key exists.
func exists(t *testing.T, c redis.UniversalClient, key string) bool {
	t.Helper()
	n, err := c.Exists(t.Context(), key).Result()
	require.NoError(t, err)
	return n == 1
}

// get returns a string key's value ("" when missing).
func get(t *testing.T, c redis.UniversalClient, key string) string {
	t.Helper()
	v, err := c.Get(t.Context(), key).Result()
	if errors.Is(err, redis.Nil) {
		return ""
	}
	require.NoError(t, err)
	return v
}

// hgetAll returns a hash's fields (empty when the key is missing).
func hgetAll(t *testing.T, c redis.UniversalClient, key string) map[string]string {
	t.Helper()
	m, err := c.HGetAll(t.Context(), key).Result()
	require.NoError(t, err)
	return m
}

// members returns a set's members (empty when missing), sorted by the caller if needed.
func members(t *testing.T, c redis.UniversalClient, key string) []string {
	t.Helper()
	m, err := c.SMembers(t.Context(), key).Result()
	require.NoError(t, err)
	return m
}

// redisNowMs is the Redis server's clock in Unix ms.
func redisNowMs(t *testing.T, c redis.UniversalClient) int64 {
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
