package handlers_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/testenv"
)

// Hard case 22: a server's value is byte-identical whichever path wrote it
// (a login from MongoDB, or any server event carrying the same config, dbId
// and updatedAt).
func TestIntegrationValueIdenticalAcrossPaths(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("", "USER", "")
	at := time.UnixMilli(1_760_000_000_123)
	config := map[string]any{"type": "sse", "url": "https://x.example.test", "headers": map[string]any{"A": "1"}}
	id := e.server("x", config, at)
	e.grantUser(id, u)
	fromLogin := e.mainWorld()
	fromLogin.login(u)
	want := e.rdb.Get(e.ctx, e.reg.Keys().ServerValue("x")).Val()
	require.NotEmpty(t, want)
	assert.Equal(t, string(fromLogin.private(u, "x")), want, "readers get the stored bytes")

	cfgJSON := []byte(`{"type":"sse","url":"https://x.example.test","headers":{"A":"1"}}`)
	withMeta := func(ev events.Event) events.Event {
		ev.DBID, ev.UpdatedAtMs = id.Hex(), at.UnixMilli()
		return ev
	}
	for name, ev := range map[string]events.Event{
		"created":  withMeta(created("x", u, cfgJSON, 1)),
		"updated":  withMeta(updated("x", cfgJSON, 1)),
		"access":   withMeta(access("x", cfgJSON, 1, u)),
		"shared":   withMeta(shared("x", cfgJSON, 1)),
		"unshared": withMeta(unshared("x", cfgJSON, 1, u)),
	} {
		t.Run(name, func(t *testing.T) {
			w := e.newWorldWith(name, noServers{})
			w.must(ev)
			got := e.rdb.Get(e.ctx, w.reg.Keys().ServerValue("x")).Val()
			assert.Equal(t, want, got)
		})
	}

	// Without dbId in the event, the flow resolves it from MongoDB.
	w := e.newWorldWith("resolved", noServers{})
	ev := updated("x", cfgJSON, 1)
	ev.UpdatedAtMs = at.UnixMilli()
	w.must(ev)
	assert.Equal(t, want, e.rdb.Get(e.ctx, w.reg.Keys().ServerValue("x")).Val(), "dbId resolved by name")
}

// Hard case 21: an update reaching 1 holder and one reaching many cost the
// same Redis commands (INFO commandstats of a private redis-server).
func TestIntegrationUpdateCostIndependentOfHolders(t *testing.T) {
	t.Parallel()
	_, rdb := testenv.StartRedisServer(t)
	e := newEnv(t, func(o *envOptions) { o.rdb = rdb })
	w := e.newWorldWith("w", noServers{})
	holders := func(server string, n int) {
		users := make([]string, n)
		for i := range users {
			users[i] = server + "-u" + strconv.Itoa(i)
			w.login(users[i])
		}
		w.must(access(server, cfg("https://"+server), 1, users...))
		assert.Len(t, w.serverView(server).CachedFor, n)
	}
	holders("warm", 1)
	holders("one", 1)
	holders("many", 300)
	cost := func(server string) map[string]int64 {
		before := commandStats(t, rdb)
		w.must(updated(server, cfg("https://"+server+"/v2"), 2))
		return diffStats(before, commandStats(t, rdb))
	}
	cost("warm") // scripts loaded, pools open
	one, many := cost("one"), cost("many")
	assert.Equal(t, one, many, "the same commands for 1 and 300 holders")
	assert.Equal(t, "https://many/v2", decodeValue(t, w.private("many-u299", "many"))["url"])
}

// Issue "registry v2", defect 1: a revoke must not depend on an index write
// that follows the grant. The allowed set's diff carries the revoked users,
// so even a grant whose holder-index entry never landed is revoked.
func TestIntegrationRevokeReachesGrantWithoutIndexEntry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.newWorldWith("w", noServers{})
	w.login("bob")
	w.must(access("s", cfg("https://s"), 1, "bob"))
	require.NotNil(t, w.private("bob", "s"))
	k := w.reg.Keys()
	for b := range registry.HolderBuckets {
		require.NoError(t, e.rdb.Del(e.ctx, k.ServerHolders("s", b)).Err())
	}
	w.must(access("s", cfg("https://s"), 2))
	assert.Nil(t, w.private("bob", "s"), "revoked through the revoke set")
}

// Issue "registry v2", defect 2: versions above 2^53 (nanosecond timestamps)
// order exactly; a revoke after a grant one nanosecond apart is applied.
func TestIntegrationVersionsAbove2To53(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.newWorldWith("w", noServers{})
	w.login("bob")
	for _, base := range []int64{1 << 53, 1_700_000_000_000_000_000} {
		name := "s" + strconv.FormatInt(base, 10)
		w.must(access(name, cfg("https://s"), base, "bob"))
		require.NotNil(t, w.private("bob", name), "granted at %d", base)
		w.must(access(name, cfg("https://s"), base+1))
		assert.Nil(t, w.private("bob", name), "revoked at %d+1", base)
		rec, err := w.reg.Record(e.ctx, name)
		require.NoError(t, err)
		assert.Equal(t, base+1, rec.AccessVersion, "stored exactly")
		require.NoError(t, w.apply(access(name, cfg("https://s"), base, "bob")))
		assert.Nil(t, w.private("bob", name), "the older grant stays stale")
	}
}

// Issue "registry v2", defect 3: with revision counters as versions, a login
// racing an update keeps the update's config (decided by Redis's clock, not
// by comparing a counter with MongoDB's updatedAt).
func TestIntegrationLoginRacingUpdateWithCounterVersions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("", "USER", "")
	e.grantUser(e.server("s", map[string]any{"url": "https://old"}, time.UnixMilli(1_760_000_000_000)), u)
	w := e.mainWorld()
	w.must(updated("s", cfg("https://v1"), 1))
	e.source.hook(func(context.Context, string) error {
		e.source.hook(nil, nil)
		ev := updated("s", cfg("https://v2"), 2)
		ev.UpdatedAtMs = 0 // the worker stamps its own clock
		return w.apply(ev)
	}, nil)
	w.login(u)
	assert.Equal(t, "https://v2", decodeValue(t, w.private(u, "s"))["url"])
	require.NoError(t, w.apply(updated("s", cfg("https://v2"), 2)))
	assert.Equal(t, "https://v2", decodeValue(t, w.private(u, "s"))["url"], "the redelivery changes nothing")
}

// Issue "registry v2", defect 4: adding one user to a 2,000-user list runs
// one membership script, not one per listed user.
func TestIntegrationAccessChangeFansOutOnlyTheDifference(t *testing.T) {
	t.Parallel()
	_, rdb := testenv.StartRedisServer(t)
	e := newEnv(t, func(o *envOptions) { o.rdb = rdb })
	w := e.newWorldWith("w", noServers{})
	users := make([]string, 2000)
	for i := range users {
		users[i] = "u" + strconv.Itoa(i)
	}
	w.login("newcomer")
	w.must(access("s", cfg("https://s"), 1, users...))
	before := commandStats(t, rdb)
	w.must(access("s", cfg("https://s"), 2, append(users, "newcomer")...))
	d := diffStats(before, commandStats(t, rdb))
	assert.LessOrEqual(t, d["evalsha"]+d["eval"], int64(5), "scripts run: %v", d)
	assert.NotNil(t, w.private("newcomer", "s"))
}

// Issue "registry v2", defect 4: a login does not stay in the holder index of
// servers it left out (public ones), so a later demote walks no one.
func TestIntegrationLoginLeavesNoHolderForPublicServers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("", "USER", "")
	e.grantUser(e.server("pub", map[string]any{"url": "https://pub"}, time.UnixMilli(1)), u)
	w := e.mainWorld()
	w.must(shared("pub", cfg("https://pub"), 1))
	w.login(u)
	n := 0
	require.NoError(t, w.reg.EachHolder(e.ctx, "pub", func(users []string) error { n += len(users); return nil }))
	assert.Zero(t, n)
	assert.Equal(t, registry.TierApp, w.view(u).Effective["pub"].Tier)
}

// Issue "registry v2", defect 5: a deleted and re-created server does not
// keep the deleted document's dbId.
func TestIntegrationRecreatedServerGetsNewDBID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.newWorldWith("w", noServers{})
	w.login("bob")
	ev := created("s", "bob", cfg("https://s"), 1)
	ev.DBID = "0123456789abcdef01234567"
	w.must(ev)
	assert.Equal(t, ev.DBID, decodeValue(t, w.private("bob", "s"))["dbId"])
	w.must(deleted("s", 2))
	assert.Nil(t, w.private("bob", "s"))
	w.must(created("s", "bob", cfg("https://s"), 3)) // no dbId, and none in MongoDB
	v := decodeValue(t, w.private("bob", "s"))
	assert.NotContains(t, v, "dbId", "the old document's id is gone")
}

// commandStats reads INFO commandstats as command -> calls.
func commandStats(t *testing.T, rdb redis.UniversalClient) map[string]int64 {
	t.Helper()
	info, err := rdb.Info(t.Context(), "commandstats").Result()
	require.NoError(t, err)
	out := map[string]int64{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		n, _ := strconv.ParseInt(calls, 10, 64)
		out[strings.TrimPrefix(name, "cmdstat_")] = n
	}
	return out
}

func diffStats(before, after map[string]int64) map[string]int64 {
	d := map[string]int64{}
	for k, v := range after {
		if v-before[k] != 0 && k != "info" {
			d[k] = v - before[k]
		}
	}
	return d
}

// Issue "hostile input", item 7: a deleted server's keys expire once no older
// event can arrive (the tombstone TTL); a re-created one keeps them for good.
func TestIntegrationDeletedServerExpiresRecreatedPersists(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.newWorldWith("w", noServers{})
	w.login("bob")
	w.must(access("s", cfg("https://s"), 1, "bob"))
	k := w.reg.Keys()
	bucket := k.ServerHolders("s", registry.HolderBucket("bob"))
	require.NoError(t, e.rdb.HSet(e.ctx, bucket, "bob", "1").Err())
	keys := []string{k.ServerRecord("s"), k.ServerAllowed("s"), bucket}
	for _, key := range keys {
		require.Equal(t, time.Duration(-1), e.rdb.PTTL(e.ctx, key).Val(), key)
	}
	w.must(deleted("s", 2))
	for _, key := range keys {
		ttl := e.rdb.PTTL(e.ctx, key).Val()
		assert.Greater(t, ttl, 7*24*time.Hour, key)
		assert.LessOrEqual(t, ttl, registry.DefaultTombstoneTTL, key)
	}
	w.must(created("s", "bob", cfg("https://s2"), 3))
	for _, key := range keys[:2] {
		assert.Equal(t, time.Duration(-1), e.rdb.PTTL(e.ctx, key).Val(), "re-created: %s persists", key)
	}
	// bob's holder entry went: the allowed set covers him now.
	assert.Negative(t, e.rdb.PTTL(e.ctx, bucket).Val(), "no expiry left on the holder bucket")
}
