package registry_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

// begin_load returns {1, now} (begun), {0, 0} (already loaded) or {-1, 0} (fenced).
func TestIntegrationBeginLoad(t *testing.T) {
	t.Parallel()
	t.Run("begun (1)", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		holdLock(t, c, k.UserLock("u1"), "tok")
		before := redisNowMs(t, c)
		began, startedAt, err := reg.BeginLoad(t.Context(), "u1", "tok", registry.ModeLogin)
		after := redisNowMs(t, c)
		require.NoError(t, err)
		assert.True(t, began)
		assert.GreaterOrEqual(t, startedAt, before)
		assert.LessOrEqual(t, startedAt, after)
		assert.InDelta(t, time.Now().UnixMilli(), startedAt, 5000)
		assert.Equal(t, map[string]string{"\x00token": "tok"}, hgetAll(t, c, k.UserPending("u1")))
		d := pttl(t, c, k.UserPending("u1"))
		assert.Greater(t, d, testPendingTTL-10*time.Second)
		assert.LessOrEqual(t, d, testPendingTTL)
		assert.False(t, exists(t, c, k.UserMembers("u1")), "loading is not loaded")
		loaded, err := reg.Loaded(t.Context(), "u1")
		require.NoError(t, err)
		assert.False(t, loaded)
	})
	t.Run("begun again replaces the older pending hash", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		beginLoad(t, reg, c, "u1", "old")
		require.Equal(t, registry.ResultPending, applyOne(t, reg, "u1", registry.OpSet, 1))
		beginLoad(t, reg, c, "u1", "new")
		assert.Equal(t, map[string]string{"\x00token": "new"}, hgetAll(t, c, k.UserPending("u1")))
	})
	t.Run("already loaded (0)", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		loadUser(t, reg, c, "u1", registry.Entry{Name: "a", Rev: 1})
		before := hgetAll(t, c, k.UserMembers("u1"))
		holdLock(t, c, k.UserLock("u1"), "tok2")
		began, startedAt, err := reg.BeginLoad(t.Context(), "u1", "tok2", registry.ModeLogin)
		require.NoError(t, err)
		assert.False(t, began)
		assert.Zero(t, startedAt)
		assert.False(t, exists(t, c, k.UserPending("u1")))
		assert.Equal(t, before, hgetAll(t, c, k.UserMembers("u1")))
	})
	t.Run("fenced (-1)", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		holdLock(t, c, k.UserLock("u1"), "someone-else")
		began, _, err := reg.BeginLoad(t.Context(), "u1", "tok", registry.ModeLogin)
		require.ErrorIs(t, err, registry.ErrFenced)
		assert.False(t, began)
		assert.False(t, exists(t, c, k.UserPending("u1")))
	})
	t.Run("fenced without a lock (-1)", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		_, _, err := reg.BeginLoad(t.Context(), "u1", "tok", registry.ModeLogin)
		require.ErrorIs(t, err, registry.ErrFenced)
		assert.False(t, exists(t, c, reg.Keys().UserPending("u1")))
	})
}

// commit_load returns n >= 0 (servers held), -1 (fenced) or -2 (superseded).
func TestIntegrationCommitLoad(t *testing.T) {
	t.Parallel()
	t.Run("committed (n)", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		beginLoad(t, reg, c, "u1", "tok")
		before := time.Now().UnixMilli()
		n, err := reg.CommitLoad(t.Context(), "u1", "tok", "", []registry.Entry{
			{Name: "a", Rev: 3}, {Name: "b:{x}", Rev: 0}, {Name: "c", Rev: 7},
		})
		after := time.Now().UnixMilli()
		require.NoError(t, err)
		assert.Equal(t, 3, n)
		m := hgetAll(t, c, k.UserMembers("u1"))
		loadedAt, err := strconv.ParseInt(m[registry.LoadedField], 10, 64)
		require.NoError(t, err, "the loaded mark holds the load time")
		assert.GreaterOrEqual(t, loadedAt, before)
		assert.LessOrEqual(t, loadedAt, after)
		assert.Equal(t, map[string]string{
			registry.LoadedField: m[registry.LoadedField], "a": "3", "b:{x}": "0", "c": "7",
		}, m, "the loaded mark and the entries, in one hash")
		d := pttl(t, c, k.UserMembers("u1"))
		assert.Greater(t, d, testCacheTTL-10*time.Second, "the one TTL is the cache TTL")
		assert.LessOrEqual(t, d, testCacheTTL)
		assert.False(t, exists(t, c, k.UserPending("u1")), "the load ended")
		loaded, err := reg.Loaded(t.Context(), "u1")
		require.NoError(t, err)
		assert.True(t, loaded)
	})
	t.Run("replaces the previous snapshot", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		loadUser(t, reg, c, "u1", registry.Entry{Name: "old", Rev: 9})
		require.NoError(t, reg.Invalidate(t.Context(), "u1"))
		loadUser(t, reg, c, "u1", registry.Entry{Name: "new", Rev: 1})
		m := hgetAll(t, c, k.UserMembers("u1"))
		delete(m, registry.LoadedField)
		assert.Equal(t, map[string]string{"new": "1"}, m)
	})
	t.Run("zero entries: loaded, holds nothing", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		beginLoad(t, reg, c, "u1", "tok")
		n, err := reg.CommitLoad(t.Context(), "u1", "tok", "", nil)
		require.NoError(t, err)
		assert.Zero(t, n)
		m := hgetAll(t, c, k.UserMembers("u1"))
		assert.Len(t, m, 1)
		assert.Contains(t, m, registry.LoadedField)
		assert.Greater(t, pttl(t, c, k.UserMembers("u1")), testCacheTTL-10*time.Second)
		assert.False(t, exists(t, c, k.UserPending("u1")))
		loaded, err := reg.Loaded(t.Context(), "u1")
		require.NoError(t, err)
		assert.True(t, loaded)
	})
	t.Run("fenced (-1): wrong token", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		beginLoad(t, reg, c, "u1", "tok")
		_, err := reg.CommitLoad(t.Context(), "u1", "wrong", "", []registry.Entry{{Name: "a", Rev: 1}})
		require.ErrorIs(t, err, registry.ErrFenced)
		assert.False(t, exists(t, c, k.UserMembers("u1")))
		assert.Equal(t, map[string]string{"\x00token": "tok"}, hgetAll(t, c, k.UserPending("u1")), "the load goes on")
	})
	t.Run("fenced (-1): lock taken over", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		beginLoad(t, reg, c, "u1", "tok")
		holdLock(t, c, k.UserLock("u1"), "taken-over")
		_, err := reg.CommitLoad(t.Context(), "u1", "tok", "", []registry.Entry{{Name: "a", Rev: 1}})
		require.ErrorIs(t, err, registry.ErrFenced)
		assert.False(t, exists(t, c, k.UserMembers("u1")))
		assert.Equal(t, map[string]string{"\x00token": "tok"}, hgetAll(t, c, k.UserPending("u1")))
	})
	t.Run("superseded (-2): invalidated during the load", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		beginLoad(t, reg, c, "u1", "tok")
		require.Equal(t, registry.ResultPending, applyOne(t, reg, "u1", registry.OpSet, 4))
		require.NoError(t, reg.Invalidate(t.Context(), "u1"))
		_, err := reg.CommitLoad(t.Context(), "u1", "tok", "", []registry.Entry{{Name: "a", Rev: 1}})
		require.ErrorIs(t, err, registry.ErrSuperseded)
		assert.False(t, exists(t, c, k.UserMembers("u1")))
		assert.False(t, exists(t, c, k.UserPending("u1")))
	})
	t.Run("superseded (-2): a newer load began", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		beginLoad(t, reg, c, "u1", "first")
		beginLoad(t, reg, c, "u1", "second")
		holdLock(t, c, k.UserLock("u1"), "first")
		_, err := reg.CommitLoad(t.Context(), "u1", "first", "", []registry.Entry{{Name: "a", Rev: 1}})
		require.ErrorIs(t, err, registry.ErrSuperseded)
		assert.False(t, exists(t, c, k.UserMembers("u1")))
		assert.Equal(t, map[string]string{"\x00token": "second"}, hgetAll(t, c, k.UserPending("u1")))
	})
	t.Run("more than 1000 entries", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		const count = 2345
		entries := make([]registry.Entry, count)
		for i := range entries {
			entries[i] = registry.Entry{Name: fmt.Sprintf("srv-%04d", i), Rev: int64(i + 1)}
		}
		beginLoad(t, reg, c, "u1", "tok")
		n, err := reg.CommitLoad(t.Context(), "u1", "tok", "", entries)
		require.NoError(t, err)
		assert.Equal(t, count, n)
		m := hgetAll(t, c, k.UserMembers("u1"))
		require.Len(t, m, count+1)
		require.Contains(t, m, registry.LoadedField)
		for _, e := range entries {
			assert.Equal(t, strconv.FormatInt(e.Rev, 10), m[e.Name])
		}
		assert.Greater(t, pttl(t, c, k.UserMembers("u1")), testCacheTTL-10*time.Second)
	})
}

// A change recorded during the load (apply_user's 2) is applied by the commit
// only when newer than the revision the snapshot read.
func TestIntegrationCommitLoadAppliesPendingWhenNewer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		snapshot int64 // -1: srv not in the snapshot
		op       registry.UserOp
		rev      int64
		want     string // srv's field after ("" absent)
		held     bool
	}{
		{"set newer replaces", 5, registry.OpSet, 6, "6", true},
		{"set same rev ignored", 5, registry.OpSet, 5, "5", true},
		{"set older ignored", 5, registry.OpSet, 4, "5", true},
		{"set of absent adds", -1, registry.OpSet, 1, "1", true},
		{"set over rev 0 entry", 0, registry.OpSet, 1, "1", true},
		{"del newer removes", 5, registry.OpDelete, 6, "-6", false},
		{"del same rev ignored", 5, registry.OpDelete, 5, "5", true},
		{"del older ignored", 5, registry.OpDelete, 2, "5", true},
		{"del of absent writes a tombstone", -1, registry.OpDelete, 2, "-2", false},
		{"two-digit rev against one-digit snapshot", 9, registry.OpDelete, 10, "-10", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			k := reg.Keys()
			beginLoad(t, reg, c, "u1", "tok")
			require.Equal(t, registry.ResultPending, applyOne(t, reg, "u1", tt.op, tt.rev))
			entries := []registry.Entry{{Name: "other", Rev: 1}}
			if tt.snapshot >= 0 {
				entries = append(entries, registry.Entry{Name: "srv", Rev: tt.snapshot})
			}
			n, err := reg.CommitLoad(t.Context(), "u1", "tok", "", entries)
			require.NoError(t, err)
			wantN := 1
			if tt.held {
				wantN = 2
			}
			assert.Equal(t, wantN, n, "servers held after the commit")
			m := hgetAll(t, c, k.UserMembers("u1"))
			got, ok := m["srv"]
			if tt.want == "" {
				assert.False(t, ok)
			} else {
				assert.Equal(t, tt.want, got)
			}
			assert.Equal(t, "1", m["other"])
			assert.Contains(t, m, registry.LoadedField)
			assert.False(t, exists(t, c, k.UserPending("u1")))

			// The tombstone left by a pending del fences the stale set after it.
			if !tt.held {
				assert.Equal(t, registry.ResultStale, applyOne(t, reg, "u1", registry.OpSet, tt.rev-1))
			}
		})
	}
}

func TestIntegrationInvalidate(t *testing.T) {
	t.Parallel()
	t.Run("loaded user", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		loadUser(t, reg, c, "u1", registry.Entry{Name: "a", Rev: 1})
		loadUser(t, reg, c, "u2", registry.Entry{Name: "a", Rev: 1})
		require.NoError(t, reg.Invalidate(t.Context(), "u1"))
		assert.False(t, exists(t, c, k.UserMembers("u1")))
		assert.False(t, exists(t, c, k.UserPending("u1")))
		assert.True(t, exists(t, c, k.UserMembers("u2")), "other users untouched")
		assert.Equal(t, registry.ResultNotLoaded, applyOne(t, reg, "u1", registry.OpSet, 2))
	})
	t.Run("unknown user", func(t *testing.T) {
		t.Parallel()
		reg, _ := newRegistry(t)
		require.NoError(t, reg.Invalidate(t.Context(), "nobody"))
	})
}
