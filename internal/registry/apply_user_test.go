package registry_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/testenv"
)

func applyOne(t *testing.T, reg *registry.Registry, user string, op registry.UserOp, rev int64) registry.UserResult {
	t.Helper()
	res, err := reg.ApplyToUsers(t.Context(), "srv", rev, op, []string{user})
	require.NoError(t, err)
	require.Len(t, res, 1)
	return res[0]
}

// apply_user on a loaded user: 1 applied, 3 del of a server not held
// (tombstone), 4 stale. The members hash keeps its own TTL.
func TestIntegrationApplyToUsersLoaded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		before string // srv's field before: "" absent, "5" held, "-5" tombstone
		op     registry.UserOp
		rev    int64
		want   registry.UserResult
		after  string // srv's field after ("" absent)
		member bool
	}{
		{"set adds", "", registry.OpSet, 6, registry.ResultApplied, "6", true},
		{"set replaces", "5", registry.OpSet, 6, registry.ResultApplied, "6", true},
		{"set same rev applies", "5", registry.OpSet, 5, registry.ResultApplied, "5", true},
		{"set stale", "5", registry.OpSet, 4, registry.ResultStale, "5", true},
		{"set over newer tombstone is fenced", "-5", registry.OpSet, 4, registry.ResultStale, "-5", false},
		{"set over older tombstone", "-5", registry.OpSet, 6, registry.ResultApplied, "6", true},
		{"del removes", "5", registry.OpDelete, 6, registry.ResultApplied, "-6", false},
		{"del same rev removes", "5", registry.OpDelete, 5, registry.ResultApplied, "-5", false},
		{"del stale", "5", registry.OpDelete, 4, registry.ResultStale, "5", true},
		{"del not held writes a tombstone", "", registry.OpDelete, 6, registry.ResultNotHeld, "-6", false},
		{"del over tombstone", "-5", registry.OpDelete, 6, registry.ResultNotHeld, "-6", false},
		{"del over newer tombstone", "-7", registry.OpDelete, 6, registry.ResultStale, "-7", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			k := reg.Keys()
			loadUser(t, reg, c, "u1", registry.Entry{Name: "keep", Rev: 1})
			switch {
			case strings.HasPrefix(tt.before, "-"):
				rev, _ := strconv.ParseInt(tt.before[1:], 10, 64)
				require.Equal(t, registry.ResultApplied, applyOne(t, reg, "u1", registry.OpSet, rev-1))
				require.Equal(t, registry.ResultApplied, applyOne(t, reg, "u1", registry.OpDelete, rev))
			case tt.before != "":
				rev, _ := strconv.ParseInt(tt.before, 10, 64)
				require.Equal(t, registry.ResultApplied, applyOne(t, reg, "u1", registry.OpSet, rev))
			}
			require.Equal(t, tt.before, hgetAll(t, c, k.UserMembers("u1"))["srv"])
			// Give the key an expiry no script would choose: it must stay as it is.
			require.NoError(t, c.PExpire(t.Context(), k.UserMembers("u1"), testCacheTTL/2).Err())
			expireAt := pexpireTime(t, c, k.UserMembers("u1"))
			ttlBefore := pttl(t, c, k.UserMembers("u1"))

			assert.Equal(t, tt.want, applyOne(t, reg, "u1", tt.op, tt.rev))

			m := hgetAll(t, c, k.UserMembers("u1"))
			got, ok := m["srv"]
			if tt.after == "" {
				assert.False(t, ok, "srv absent")
			} else {
				assert.Equal(t, tt.after, got)
			}
			assert.Equal(t, "1", m["keep"], "other members untouched")
			assert.Contains(t, m, registry.LoadedField, "still loaded")
			assert.Equal(t, expireAt, pexpireTime(t, c, k.UserMembers("u1")), "the key's TTL is untouched")
			assert.InDelta(t, ttlBefore.Milliseconds(), pttl(t, c, k.UserMembers("u1")).Milliseconds(), 50, "no new TTL")
			assert.False(t, exists(t, c, k.UserPending("u1")))

			e, found, err := reg.Lookup(t.Context(), "u1", "srv")
			require.NoError(t, err)
			assert.False(t, found, "srv has no value: nobody sees it whatever the membership")
			assert.Empty(t, e)
			require.NoError(t, c.Set(t.Context(), k.ServerValue("srv"), `{"v":1}`, 0).Err())
			_, found, err = reg.Lookup(t.Context(), "u1", "srv")
			require.NoError(t, err)
			assert.Equal(t, tt.member, found, "membership as readers see it")
		})
	}
}

// The tombstone written by a del fences a set of an older revision (a flow
// whose lock expired): del at rev 5, then set at rev 4.
func TestIntegrationApplyToUsersTombstoneFencesStaleSet(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	k := reg.Keys()
	loadUser(t, reg, c, "u1", registry.Entry{Name: "srv", Rev: 3})
	require.NoError(t, c.Set(t.Context(), k.ServerValue("srv"), `{"v":1}`, 0).Err())
	assert.Equal(t, registry.ResultApplied, applyOne(t, reg, "u1", registry.OpDelete, 5))
	assert.Equal(t, registry.ResultStale, applyOne(t, reg, "u1", registry.OpSet, 4))
	assert.Equal(t, "-5", hgetAll(t, c, k.UserMembers("u1"))["srv"])
	_, found, err := reg.Lookup(t.Context(), "u1", "srv")
	require.NoError(t, err)
	assert.False(t, found, "still not a member")
	v, err := reg.User(t.Context(), "u1")
	require.NoError(t, err)
	assert.NotContains(t, v.Effective, "srv")
	assert.NotContains(t, v.Private, "srv")
}

// apply_user's 0: neither loaded nor loading; nothing written, no key created.
func TestIntegrationApplyToUsersNotLoaded(t *testing.T) {
	t.Parallel()
	for _, op := range []registry.UserOp{registry.OpSet, registry.OpDelete} {
		t.Run(string(op), func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			k := reg.Keys()
			assert.Equal(t, registry.ResultNotLoaded, applyOne(t, reg, "u1", op, 3))
			for _, key := range []string{k.UserMembers("u1"), k.UserPending("u1")} {
				assert.False(t, exists(t, c, key), key)
			}
			loaded, err := reg.Loaded(t.Context(), "u1")
			require.NoError(t, err)
			assert.False(t, loaded)
		})
	}
	t.Run("after expiry", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		loadUser(t, reg, c, "u1", registry.Entry{Name: "srv", Rev: 1})
		require.NoError(t, c.PExpire(t.Context(), k.UserMembers("u1"), time.Millisecond).Err())
		require.Eventually(t, func() bool { return !exists(t, c, k.UserMembers("u1")) }, time.Second, 5*time.Millisecond)
		assert.Equal(t, registry.ResultNotLoaded, applyOne(t, reg, "u1", registry.OpSet, 2))
		assert.False(t, exists(t, c, k.UserMembers("u1")), "an expired user is not re-created half-loaded")
	})
}

// apply_user's 2: the change is recorded for the load in progress, newest
// revision per server.
func TestIntegrationApplyToUsersPending(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	k := reg.Keys()
	beginLoad(t, reg, c, "u1", "tok")
	pendingOp := func() string { return hgetAll(t, c, k.UserPending("u1"))["srv"] }
	steps := []struct {
		name string
		op   registry.UserOp
		rev  int64
		want string
	}{
		{"first change recorded", registry.OpSet, 5, "5 set"},
		{"older ignored", registry.OpDelete, 3, "5 set"},
		{"same rev ignored", registry.OpDelete, 5, "5 set"},
		{"newer kept", registry.OpDelete, 7, "7 del"},
		{"newer set kept", registry.OpSet, 12, "12 set"},
		{"older than two digits ignored", registry.OpDelete, 9, "12 set"},
	}
	for _, s := range steps {
		assert.Equal(t, registry.ResultPending, applyOne(t, reg, "u1", s.op, s.rev), s.name)
		assert.Equal(t, s.want, pendingOp(), s.name)
	}
	assert.Equal(t, "tok", hgetAll(t, c, k.UserPending("u1"))["\x00token"])
	assert.False(t, exists(t, c, k.UserMembers("u1")), "a loading user is not loaded")
	assert.Positive(t, pttl(t, c, k.UserPending("u1")), "pending hash keeps its TTL")
}

// Several users in one pipelined call, one result each.
func TestIntegrationApplyToUsersMixed(t *testing.T) {
	t.Parallel()
	for _, op := range []registry.UserOp{registry.OpSet, registry.OpDelete} {
		t.Run(string(op), func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			loadUser(t, reg, c, "held", registry.Entry{Name: "srv", Rev: 1})
			beginLoad(t, reg, c, "loading", "tok")
			loadUser(t, reg, c, "notheld", registry.Entry{Name: "x", Rev: 1})
			loadUser(t, reg, c, "newer", registry.Entry{Name: "srv", Rev: 9})
			res, err := reg.ApplyToUsers(t.Context(), "srv", 5, op, []string{"held", "loading", "notheld", "newer", "idle"})
			require.NoError(t, err)
			wantNotHeld := registry.ResultNotHeld
			if op == registry.OpSet {
				wantNotHeld = registry.ResultApplied
			}
			assert.Equal(t, []registry.UserResult{
				registry.ResultApplied, registry.ResultPending, wantNotHeld,
				registry.ResultStale, registry.ResultNotLoaded,
			}, res)
		})
	}
}

func TestIntegrationApplyToUsersNoUsers(t *testing.T) {
	t.Parallel()
	reg, _ := newRegistry(t)
	res, err := reg.ApplyToUsers(t.Context(), "srv", 1, registry.OpSet, nil)
	require.NoError(t, err)
	assert.Empty(t, res)
}

// SCRIPT FLUSH is global, so this one runs on a private redis-server.
func TestIntegrationScriptsRecoverFromNoScript(t *testing.T) {
	t.Parallel()
	_, c := testenv.StartRedisServer(t)
	reg := registry.New(c, registry.Config{KeyPrefix: "p:", CacheTTL: testCacheTTL, PendingTTL: testPendingTTL})
	k := reg.Keys()
	loadUser(t, reg, c, "u1")
	for i, rev := range []int64{1, 2} {
		require.NoError(t, c.ScriptFlush(t.Context()).Err())
		require.Zero(t, cachedScripts(t, c))
		res, err := reg.ApplyToUsers(t.Context(), "srv", rev, registry.OpSet, []string{"u1", "u2"})
		require.NoError(t, err, "call %d", i)
		assert.Equal(t, []registry.UserResult{registry.ResultApplied, registry.ResultNotLoaded}, res)
		assert.Positive(t, cachedScripts(t, c), "the script was loaded again")
	}
	assert.Equal(t, "2", hgetAll(t, c, k.UserMembers("u1"))["srv"])

	require.NoError(t, c.ScriptFlush(t.Context()).Err())
	err := reg.AdoptValues(t.Context(), []registry.Adoption{{Server: "srv", Config: []byte(`{"a":1}`), DBID: "id", UpdatedAtMs: 7}})
	require.NoError(t, err)
	assert.Equal(t, `{"a":1,"dbId":"id","lastUpdatedAt":7,"updatedAt":7}`, get(t, c, k.ServerValue("srv")))
}

// cachedScripts is the number of scripts in the server's script cache.
func cachedScripts(t *testing.T, c redis.UniversalClient) int {
	t.Helper()
	info, err := c.Info(t.Context(), "memory").Result()
	require.NoError(t, err)
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "number_of_cached_scripts:"); ok {
			n, err := strconv.Atoi(v)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no number_of_cached_scripts in INFO memory")
	return 0
}
