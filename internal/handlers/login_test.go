package handlers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/testenv"
)

// Hard case 1: load then read gives exact values, and users are isolated.
func TestIntegrationLoginLoadsExactValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	updated := time.UnixMilli(1_760_000_000_123)
	alice := e.user("alice", "USER", "")
	bob := e.user("bob", "USER", "")
	gh := e.server("github", map[string]any{
		"type": "streamable-http", "url": "https://gh.example.test/mcp",
		"headers": map[string]any{"X-Team": "a"}, "args": []any{"--x", 2},
	}, updated)
	jira := e.server("jira", map[string]any{"type": "sse", "url": "https://jira.example.test"}, updated)
	e.grantUser(gh, alice)
	e.grantUser(jira, bob)

	require.NoError(t, e.login(alice))
	require.NoError(t, e.login(bob))

	v := e.view(alice)
	assert.True(t, v.Loaded)
	require.Equal(t, []string{"github"}, e.privateNames(alice))
	assert.JSONEq(t, `{"type":"streamable-http","url":"https://gh.example.test/mcp","headers":{"X-Team":"a"},
		"args":["--x",2],"dbId":"`+gh.Hex()+`","lastUpdatedAt":1760000000123,"updatedAt":1760000000123}`, string(v.Private["github"]))
	assert.Equal(t, registry.TierPrivate, v.Effective["github"].Tier)
	assert.Equal(t, []string{"jira"}, e.privateNames(bob), "bob sees only his server")
	assert.JSONEq(t, `{"type":"sse","url":"https://jira.example.test","dbId":"`+jira.Hex()+`","lastUpdatedAt":1760000000123,"updatedAt":1760000000123}`,
		string(e.view(bob).Private["jira"]))
}

// Hard case 2: a second login within the TTL reads nothing from MongoDB.
func TestIntegrationWarmLoginSkipsMongo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("u", "USER", "")
	e.grantUser(e.server("s1", map[string]any{"url": "https://s1"}, time.Now()), u)
	require.NoError(t, e.login(u))
	require.NoError(t, e.login(u))
	require.NoError(t, e.login(u))
	assert.Equal(t, int64(1), e.source.calls.Load())
}

// Hard case 3: MongoDB fails mid-load: no loaded mark and no partial
// membership (the mark and the membership are one key in layout 2, so the
// only earlier snapshot is a loaded one, which a login does not reload), the
// error is transient (retried), and the retry succeeds.
func TestIntegrationMongoFailureMidLoad(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("u", "USER", "")
	e.grantUser(e.server("fresh", map[string]any{"url": "https://fresh"}, time.Now()), u)
	membersKey := e.reg.Keys().UserMembers(u)

	e.source.hook(func(context.Context, string) error { return errors.New("mongo: connection reset") }, nil)
	err := e.login(u)
	require.Error(t, err)
	assert.NotErrorIs(t, err, events.ErrPermanent, "a MongoDB outage is retried, never dead-lettered")
	d := events.DefaultRetryPolicy().Decide(err, 1)
	assert.Equal(t, events.ActionNak, d.Action)
	assert.False(t, e.view(u).Loaded, "no flag")
	assert.Zero(t, e.rdb.Exists(e.ctx, membersKey).Val(), "nothing partial written")

	e.source.hook(nil, nil)
	require.NoError(t, e.login(u))
	assert.Equal(t, []string{"fresh"}, e.privateNames(u), "the retry loaded the snapshot whole")
}

// Hard case 3, Redis side: Redis goes away between the MongoDB read and the
// commit; nothing partial is left and the retry succeeds once it is back.
func TestIntegrationRedisFailureMidLoad(t *testing.T) {
	t.Parallel()
	srv, rdb := testenv.StartRedisServer(t)
	e := newEnv(t, func(o *envOptions) { o.rdb = rdb })
	u := e.user("u", "USER", "")
	e.grantUser(e.server("s1", map[string]any{"url": "https://s1"}, time.Now()), u)

	e.source.hook(nil, func(context.Context, string) error { srv.Stop(); return nil })
	err := e.login(u)
	require.Error(t, err)
	assert.NotErrorIs(t, err, events.ErrPermanent)

	srv.Restart(t)
	e.source.hook(nil, nil)
	require.Eventually(t, func() bool { return e.login(u) == nil }, 10*time.Second, 100*time.Millisecond)
	assert.Equal(t, []string{"s1"}, e.privateNames(u))
}

// Hard case 5: a load slower than the lock TTL keeps its lock and commits.
func TestIntegrationSlowLoadExtendsLock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.lockTTL = 300 * time.Millisecond })
	u := e.user("u", "USER", "")
	e.grantUser(e.server("s1", map[string]any{"url": "https://s1"}, time.Now()), u)
	e.source.hook(func(ctx context.Context, _ string) error {
		select {
		case <-time.After(time.Second): // more than three lock TTLs
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, nil)
	require.NoError(t, e.login(u))
	assert.Equal(t, []string{"s1"}, e.privateNames(u))
}

// Hard case 5: when the lock cannot be kept (another owner took it), the
// write is refused: no flag, no registry.
func TestIntegrationLostLockRefusesWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *envOptions) { o.lockTTL = 300 * time.Millisecond })
	u := e.user("u", "USER", "")
	e.grantUser(e.server("s1", map[string]any{"url": "https://s1"}, time.Now()), u)
	lockKey := e.reg.Keys().UserLock(u)
	e.source.hook(nil, func(ctx context.Context, _ string) error {
		// Another worker took the lock over (as after an expiry or a failover).
		return e.rdb.Set(context.Background(), lockKey, "other-owner", time.Minute).Err()
	})
	err := e.flows[events.KindUserLogin].Handle(e.ctx, events.Event{Kind: events.KindUserLogin, UserID: u})
	require.Error(t, err)
	assert.True(t, errors.Is(err, registry.ErrFenced) || errors.Is(err, lockstatus.ErrLockLost), "got %v", err)
	v := e.view(u)
	assert.False(t, v.Loaded)
	assert.Empty(t, v.Private)
	assert.Equal(t, "other-owner", e.rdb.Get(e.ctx, lockKey).Val(), "the other owner's lock is untouched")
}

// Hard case 6: flag and registry expire together; a zero-server user is loaded.
func TestIntegrationFlagAndRegistryShareTTL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("u", "USER", "")
	e.grantUser(e.server("s1", map[string]any{"url": "https://s1"}, time.Now()), u)
	require.NoError(t, e.login(u))
	// Layout 2 keeps the loaded mark as a field of the membership hash: one
	// key, one TTL, so they cannot expire apart.
	k := e.reg.Keys()
	ttl := e.rdb.PTTL(e.ctx, k.UserMembers(u)).Val()
	assert.Greater(t, ttl, 59*time.Minute)
	assert.True(t, e.rdb.HExists(e.ctx, k.UserMembers(u), registry.LoadedField).Val(), "the mark lives in the membership key")
	assert.True(t, e.rdb.HExists(e.ctx, k.UserMembers(u), "s1").Val())

	zero := e.user("zero", "USER", "")
	require.NoError(t, e.login(zero))
	v := e.view(zero)
	assert.True(t, v.Loaded, "a user with zero servers is loaded")
	assert.Empty(t, v.Private)
	require.NoError(t, e.login(zero))
	assert.Equal(t, int64(2), e.source.calls.Load(), "the zero-server user's second login reads nothing")
}

// Hard case 11 (invalidate): the next login reloads from MongoDB.
func TestIntegrationInvalidateForcesReload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("u", "USER", "")
	s1 := e.server("s1", map[string]any{"url": "https://s1"}, time.Now())
	e.grantUser(s1, u)
	require.NoError(t, e.login(u))
	e.grantUser(e.server("s2", map[string]any{"url": "https://s2"}, time.Now()), u)

	require.NoError(t, e.handle(events.KindUserInvalidate, events.Event{UserID: u}))
	require.NoError(t, e.handle(events.KindUserInvalidate, events.Event{UserID: u}), "idempotent")
	assert.False(t, e.view(u).Loaded)
	require.NoError(t, e.login(u))
	assert.Equal(t, []string{"s1", "s2"}, e.privateNames(u))
	assert.Equal(t, int64(2), e.source.calls.Load())
}

// An invalidation that lands during a load makes that load's commit fail
// (retried), so the user never keeps a snapshot read before the invalidation.
func TestIntegrationInvalidateDuringLoadSupersedesIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("u", "USER", "")
	e.grantUser(e.server("s1", map[string]any{"url": "https://s1"}, time.Now()), u)
	e.source.hook(nil, func(context.Context, string) error {
		return e.flows[events.KindUserInvalidate].Handle(e.ctx, events.Event{Kind: events.KindUserInvalidate, UserID: u})
	})
	err := e.flows[events.KindUserLogin].Handle(e.ctx, events.Event{Kind: events.KindUserLogin, UserID: u})
	require.ErrorIs(t, err, registry.ErrSuperseded)
	assert.False(t, e.view(u).Loaded)
	e.source.hook(nil, nil)
	require.NoError(t, e.login(u))
	assert.True(t, e.view(u).Loaded)
}

// Hard case 17: names with ':', '*', '{', '}', spaces and unicode keep users
// isolated and round-trip exactly.
func TestIntegrationAwkwardNamesRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	names := []string{"a:b", "a*", "{x}", "}{", "with space", "ünïcødé ✓", "%7B", "a}:reg"}
	users := make([]string, len(names))
	for i, n := range names {
		users[i] = e.user("", "USER", "")
		e.grantUser(e.server(n, map[string]any{"url": "https://" + n}, time.UnixMilli(int64(1000+i))), users[i])
	}
	for _, u := range users {
		require.NoError(t, e.login(u))
	}
	for i, u := range users {
		v := e.view(u)
		require.Len(t, v.Private, 1, "user %d sees exactly its own server", i)
		got := decodeValue(t, v.Private[names[i]])
		assert.Equal(t, "https://"+names[i], got["url"])
	}
}

// A server name from MongoDB that no event could carry (a control
// character) is left out of the snapshot instead of corrupting it.
func TestIntegrationLoginSkipsInvalidNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("", "USER", "")
	e.grantUser(e.server("ok", map[string]any{"url": "https://ok"}, time.Now()), u)
	e.grantUser(e.server("bad\nname", map[string]any{"url": "https://bad"}, time.Now()), u)
	require.NoError(t, e.login(u))
	assert.Equal(t, []string{"ok"}, e.privateNames(u))
}
