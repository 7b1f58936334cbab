package registry_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/testenv"
)

func TestIntegrationApplyToUsersLoaded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cached    bool // the user's snapshot holds "srv" (at rev 5)
		op        registry.UserOp
		rev       int64
		want      registry.UserResult
		wantValue string // "" : absent after
		wantRev   string
		holder    bool // added to the reverse index
	}{
		{"set adds", false, registry.OpSet, 6, registry.ResultApplied, "new", "6", true},
		{"set replaces", true, registry.OpSet, 6, registry.ResultApplied, "new", "6", true},
		{"set same rev applies", true, registry.OpSet, 5, registry.ResultApplied, "new", "5", true},
		{"set stale", true, registry.OpSet, 4, registry.ResultStale, "snap", "5", false},
		{"upd replaces", true, registry.OpUpdate, 6, registry.ResultApplied, "new", "6", false},
		{"upd not cached", false, registry.OpUpdate, 6, registry.ResultNotCached, "", "6", false},
		{"upd stale", true, registry.OpUpdate, 1, registry.ResultStale, "snap", "5", false},
		{"del removes", true, registry.OpDelete, 6, registry.ResultApplied, "", "6", false},
		{"del not cached", false, registry.OpDelete, 6, registry.ResultNotCached, "", "6", false},
		{"del stale", true, registry.OpDelete, 4, registry.ResultStale, "snap", "5", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			k := reg.Keys()
			entries := []registry.Entry{{Name: "keep", Value: []byte("k"), Rev: 1}}
			if tt.cached {
				entries = append(entries, registry.Entry{Name: "srv", Value: []byte("snap"), Rev: 5})
			} else {
				// The user's revs may still know srv from an earlier change.
				entries = append(entries, registry.Entry{Name: "gone", Value: []byte("g"), Rev: 1})
			}
			loadUser(t, reg, c, "u1", entries...)
			if !tt.cached {
				res, err := reg.ApplyToUsers(t.Context(), "srv", 5, nil, registry.OpDelete, []string{"u1"})
				require.NoError(t, err)
				require.Equal(t, []registry.UserResult{registry.ResultNotCached}, res)
			}
			// Move the flag's expiry so that the script must copy it, not the TTL.
			require.NoError(t, c.PExpire(t.Context(), k.UserLoaded("u1"), testCacheTTL/2).Err())
			flagExp := pexpireTime(t, c, k.UserLoaded("u1"))

			res, err := reg.ApplyToUsers(t.Context(), "srv", tt.rev, []byte("new"), tt.op, []string{"u1"})
			require.NoError(t, err)
			assert.Equal(t, []registry.UserResult{tt.want}, res)

			regHash := hgetAll(t, c, k.UserRegistry("u1"))
			got, ok := regHash["srv"]
			if tt.wantValue == "" {
				assert.False(t, ok, "srv must be absent")
			} else {
				assert.Equal(t, tt.wantValue, got)
			}
			assert.Equal(t, "k", regHash["keep"])
			assert.Equal(t, tt.wantRev, hgetAll(t, c, k.UserRevs("u1"))["srv"])
			if tt.want != registry.ResultStale {
				assert.Equal(t, flagExp, pexpireTime(t, c, k.UserRegistry("u1")), "registry takes the flag's expiry")
				assert.Equal(t, flagExp, pexpireTime(t, c, k.UserRevs("u1")), "revs take the flag's expiry")
			}
			assert.Equal(t, flagExp, pexpireTime(t, c, k.UserLoaded("u1")), "flag expiry unchanged")
			holders := members(t, c, k.ServerCachedBy("srv"))
			if tt.holder {
				assert.Equal(t, []string{"u1"}, holders)
			} else {
				assert.Empty(t, holders)
			}
		})
	}
}

func TestIntegrationApplyToUsersRemovingLastEntry(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	k := reg.Keys()
	loadUser(t, reg, c, "u1", registry.Entry{Name: "srv", Value: []byte("v"), Rev: 1})
	res, err := reg.ApplyToUsers(t.Context(), "srv", 2, nil, registry.OpDelete, []string{"u1"})
	require.NoError(t, err)
	assert.Equal(t, []registry.UserResult{registry.ResultApplied}, res)
	assert.False(t, exists(t, c, k.UserRegistry("u1")))
	assert.True(t, exists(t, c, k.UserLoaded("u1")), "still loaded, with an empty registry")
	assert.Equal(t, map[string]string{"srv": "2"}, hgetAll(t, c, k.UserRevs("u1")), "tombstone kept")
	res, err = reg.ApplyToUsers(t.Context(), "srv", 1, []byte("old"), registry.OpSet, []string{"u1"})
	require.NoError(t, err)
	assert.Equal(t, []registry.UserResult{registry.ResultStale}, res, "an older set cannot resurrect a deleted entry")
	assert.False(t, exists(t, c, k.UserRegistry("u1")))
}

func TestIntegrationApplyToUsersNotLoaded(t *testing.T) {
	t.Parallel()
	for _, op := range []registry.UserOp{registry.OpSet, registry.OpUpdate, registry.OpDelete} {
		t.Run(string(op), func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			k := reg.Keys()
			res, err := reg.ApplyToUsers(t.Context(), "srv", 3, []byte("v"), op, []string{"u1"})
			require.NoError(t, err)
			assert.Equal(t, []registry.UserResult{registry.ResultNotLoaded}, res)
			for _, key := range []string{k.UserRegistry("u1"), k.UserLoaded("u1"), k.UserPending("u1"), k.UserRevs("u1"), k.ServerCachedBy("srv")} {
				assert.False(t, exists(t, c, key), key)
			}
		})
	}
}

func TestIntegrationApplyToUsersPending(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	k := reg.Keys()
	beginLoad(t, reg, c, "u1", "tok")
	pendingOp := func() string { return hgetAll(t, c, k.UserPending("u1"))["srv"] }
	apply := func(op registry.UserOp, rev int64, value string) {
		t.Helper()
		res, err := reg.ApplyToUsers(t.Context(), "srv", rev, []byte(value), op, []string{"u1"})
		require.NoError(t, err)
		require.Equal(t, []registry.UserResult{registry.ResultPending}, res)
	}

	apply(registry.OpSet, 5, "five")
	assert.Equal(t, "5\nset\nfive", pendingOp())
	apply(registry.OpUpdate, 3, "three")
	assert.Equal(t, "5\nset\nfive", pendingOp(), "older op ignored")
	apply(registry.OpSet, 5, "again")
	assert.Equal(t, "5\nset\nfive", pendingOp(), "same rev ignored")
	apply(registry.OpDelete, 7, "")
	assert.Equal(t, "7\ndel\n", pendingOp(), "newer op kept")
	assert.Equal(t, "tok", hgetAll(t, c, k.UserPending("u1"))["\x00token"])
	assert.False(t, exists(t, c, k.UserRegistry("u1")))
	assert.False(t, exists(t, c, k.UserRevs("u1")))
	assert.Equal(t, []string{"u1"}, members(t, c, k.ServerCachedBy("srv")), "set while loading makes a holder")
}

func TestIntegrationApplyToUsersReverseIndex(t *testing.T) {
	t.Parallel()
	for _, op := range []registry.UserOp{registry.OpSet, registry.OpUpdate, registry.OpDelete} {
		t.Run(string(op), func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			k := reg.Keys()
			// applied: loaded and cached; pending: loading; notcached: loaded
			// without srv; stale: loaded with a newer rev; idle: neither.
			loadUser(t, reg, c, "applied", registry.Entry{Name: "srv", Value: []byte("v"), Rev: 1})
			beginLoad(t, reg, c, "pending", "tok")
			loadUser(t, reg, c, "notcached", registry.Entry{Name: "x", Value: []byte("v"), Rev: 1})
			loadUser(t, reg, c, "stale", registry.Entry{Name: "srv", Value: []byte("v"), Rev: 9})
			users := []string{"applied", "pending", "notcached", "stale", "idle"}
			res, err := reg.ApplyToUsers(t.Context(), "srv", 5, []byte("new"), op, users)
			require.NoError(t, err)
			wantNotCached := registry.ResultNotCached
			if op == registry.OpSet {
				wantNotCached = registry.ResultApplied
			}
			assert.Equal(t, []registry.UserResult{
				registry.ResultApplied, registry.ResultPending, wantNotCached,
				registry.ResultStale, registry.ResultNotLoaded,
			}, res)
			holders := members(t, c, k.ServerCachedBy("srv"))
			slices.Sort(holders)
			switch op {
			case registry.OpSet:
				assert.Equal(t, []string{"applied", "notcached", "pending"}, holders)
			default: // upd and del reach only users walked from the index: nothing to add
				assert.Empty(t, holders)
			}
		})
	}
}

func TestIntegrationApplyToUsersNoUsers(t *testing.T) {
	t.Parallel()
	reg, _ := newRegistry(t)
	res, err := reg.ApplyToUsers(t.Context(), "srv", 1, []byte("v"), registry.OpSet, nil)
	require.NoError(t, err)
	assert.Empty(t, res)
}

// SCRIPT FLUSH is global, so this one runs on a private redis-server.
func TestIntegrationApplyToUsersRecoversFromNoScript(t *testing.T) {
	t.Parallel()
	_, c := testenv.StartRedisServer(t)
	reg := registry.New(c, registry.Config{KeyPrefix: "p:", CacheTTL: testCacheTTL, PendingTTL: testPendingTTL})
	k := reg.Keys()
	loadUser(t, reg, c, "u1")
	for i, rev := range []int64{1, 2} {
		if i > 0 {
			require.NoError(t, c.ScriptFlush(t.Context()).Err())
			require.Zero(t, cachedScripts(t, c))
		}
		res, err := reg.ApplyToUsers(t.Context(), "srv", rev, []byte("v"), registry.OpSet, []string{"u1", "u2"})
		require.NoError(t, err, "call %d", i)
		assert.Equal(t, []registry.UserResult{registry.ResultApplied, registry.ResultNotLoaded}, res)
		assert.Positive(t, cachedScripts(t, c), "the script was loaded again")
	}
	assert.Equal(t, map[string]string{"srv": "v"}, hgetAll(t, c, k.UserRegistry("u1")))
	assert.Equal(t, map[string]string{"srv": "2"}, hgetAll(t, c, k.UserRevs("u1")))
	assert.Equal(t, []string{"u1"}, members(t, c, k.ServerCachedBy("srv")))
}

// cachedScripts is the number of scripts in the server's script cache.
func cachedScripts(t *testing.T, c *redis.Client) int {
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
