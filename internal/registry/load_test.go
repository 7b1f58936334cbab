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

func TestIntegrationBeginLoad(t *testing.T) {
	t.Parallel()
	t.Run("begun", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		holdLock(t, c, k.UserLock("u1"), "tok")
		before := redisNowMs(t, c)
		began, startedAt, err := reg.BeginLoad(t.Context(), "u1", "tok")
		after := redisNowMs(t, c)
		require.NoError(t, err)
		assert.True(t, began)
		assert.GreaterOrEqual(t, startedAt, before)
		assert.LessOrEqual(t, startedAt, after)
		assert.InDelta(t, time.Now().UnixMilli(), startedAt, 5000)
		assert.Equal(t, map[string]string{"\x00token": "tok"}, hgetAll(t, c, k.UserPending("u1")))
		pttl, err := c.PTTL(t.Context(), k.UserPending("u1")).Result()
		require.NoError(t, err)
		assert.Greater(t, pttl, testPendingTTL-10*time.Second)
		assert.LessOrEqual(t, pttl, testPendingTTL)
		assert.False(t, exists(t, c, k.UserLoaded("u1")))
	})
	t.Run("begun again replaces the older pending hash", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		beginLoad(t, reg, c, "u1", "old")
		res, err := reg.ApplyToUsers(t.Context(), "s1", 1, []byte("v"), registry.OpSet, []string{"u1"})
		require.NoError(t, err)
		require.Equal(t, []registry.UserResult{registry.ResultPending}, res)
		beginLoad(t, reg, c, "u1", "new")
		assert.Equal(t, map[string]string{"\x00token": "new"}, hgetAll(t, c, k.UserPending("u1")))
	})
	t.Run("already loaded", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		loadUser(t, reg, c, "u1")
		holdLock(t, c, k.UserLock("u1"), "tok2")
		began, startedAt, err := reg.BeginLoad(t.Context(), "u1", "tok2")
		require.NoError(t, err)
		assert.False(t, began)
		assert.Zero(t, startedAt)
		assert.False(t, exists(t, c, k.UserPending("u1")))
	})
	t.Run("fenced", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		holdLock(t, c, k.UserLock("u1"), "someone-else")
		began, _, err := reg.BeginLoad(t.Context(), "u1", "tok")
		require.ErrorIs(t, err, registry.ErrFenced)
		assert.False(t, began)
		assert.False(t, exists(t, c, k.UserPending("u1")))
	})
	t.Run("fenced without a lock", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		_, _, err := reg.BeginLoad(t.Context(), "u1", "tok")
		require.ErrorIs(t, err, registry.ErrFenced)
		assert.False(t, exists(t, c, reg.Keys().UserPending("u1")))
	})
}

func TestIntegrationCommitLoad(t *testing.T) {
	t.Parallel()
	t.Run("committed", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		beginLoad(t, reg, c, "u1", "tok")
		before := time.Now().UnixMilli()
		n, err := reg.CommitLoad(t.Context(), "u1", "tok", []registry.Entry{
			{Name: "a", Value: []byte(`{"a":1}`), Rev: 3},
			{Name: "b:{x}", Value: []byte(`{"b":1}`), Rev: 0},
			{Name: "c", Value: []byte(`{"c":1}`), Rev: 7},
		})
		require.NoError(t, err)
		assert.Equal(t, 3, n)
		assert.Equal(t, map[string]string{"a": `{"a":1}`, "b:{x}": `{"b":1}`, "c": `{"c":1}`}, hgetAll(t, c, k.UserRegistry("u1")))
		assert.Equal(t, map[string]string{"a": "3", "c": "7"}, hgetAll(t, c, k.UserRevs("u1")), "rev 0 entries are not recorded")
		assert.False(t, exists(t, c, k.UserPending("u1")))
		flag, err := c.Get(t.Context(), k.UserLoaded("u1")).Result()
		require.NoError(t, err)
		loadedAt, err := strconv.ParseInt(flag, 10, 64)
		require.NoError(t, err)
		assert.InDelta(t, before, loadedAt, 5000)
		exp := pexpireTime(t, c, k.UserLoaded("u1"))
		assert.InDelta(t, time.Now().Add(testCacheTTL).UnixMilli(), exp, 10000)
		assert.Equal(t, exp, pexpireTime(t, c, k.UserRegistry("u1")), "registry and flag expire together")
		assert.Equal(t, exp, pexpireTime(t, c, k.UserRevs("u1")), "revs and flag expire together")
		loaded, err := reg.Loaded(t.Context(), "u1")
		require.NoError(t, err)
		assert.True(t, loaded)
	})
	t.Run("replaces the previous snapshot", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		loadUser(t, reg, c, "u1", registry.Entry{Name: "old", Value: []byte("o"), Rev: 9})
		require.NoError(t, c.Del(t.Context(), k.UserLoaded("u1")).Err())
		loadUser(t, reg, c, "u1", registry.Entry{Name: "new", Value: []byte("n"), Rev: 1})
		assert.Equal(t, map[string]string{"new": "n"}, hgetAll(t, c, k.UserRegistry("u1")))
		assert.Equal(t, map[string]string{"new": "1"}, hgetAll(t, c, k.UserRevs("u1")))
	})
	t.Run("zero entries", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		beginLoad(t, reg, c, "u1", "tok")
		n, err := reg.CommitLoad(t.Context(), "u1", "tok", nil)
		require.NoError(t, err)
		assert.Zero(t, n)
		assert.True(t, exists(t, c, k.UserLoaded("u1")))
		assert.Positive(t, pexpireTime(t, c, k.UserLoaded("u1")))
		assert.False(t, exists(t, c, k.UserRegistry("u1")))
		assert.False(t, exists(t, c, k.UserRevs("u1")))
		assert.False(t, exists(t, c, k.UserPending("u1")))
	})
	t.Run("fenced", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		beginLoad(t, reg, c, "u1", "tok")
		holdLock(t, c, k.UserLock("u1"), "taken-over")
		_, err := reg.CommitLoad(t.Context(), "u1", "tok", []registry.Entry{{Name: "a", Value: []byte("v"), Rev: 1}})
		require.ErrorIs(t, err, registry.ErrFenced)
		assert.False(t, exists(t, c, k.UserRegistry("u1")))
		assert.False(t, exists(t, c, k.UserLoaded("u1")))
		assert.False(t, exists(t, c, k.UserRevs("u1")))
		assert.Equal(t, map[string]string{"\x00token": "tok"}, hgetAll(t, c, k.UserPending("u1")))
	})
	t.Run("superseded: pending missing", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		holdLock(t, c, k.UserLock("u1"), "tok")
		_, err := reg.CommitLoad(t.Context(), "u1", "tok", []registry.Entry{{Name: "a", Value: []byte("v"), Rev: 1}})
		require.ErrorIs(t, err, registry.ErrSuperseded)
		assert.False(t, exists(t, c, k.UserRegistry("u1")))
		assert.False(t, exists(t, c, k.UserLoaded("u1")))
	})
	t.Run("superseded: a newer load began", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		beginLoad(t, reg, c, "u1", "first")
		beginLoad(t, reg, c, "u1", "second")
		holdLock(t, c, k.UserLock("u1"), "first")
		_, err := reg.CommitLoad(t.Context(), "u1", "first", []registry.Entry{{Name: "a", Value: []byte("v"), Rev: 1}})
		require.ErrorIs(t, err, registry.ErrSuperseded)
		assert.False(t, exists(t, c, k.UserRegistry("u1")))
		assert.False(t, exists(t, c, k.UserLoaded("u1")))
		assert.Equal(t, map[string]string{"\x00token": "second"}, hgetAll(t, c, k.UserPending("u1")))
	})
	t.Run("more than 1000 entries", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		const count = 2345
		entries := make([]registry.Entry, count)
		for i := range entries {
			entries[i] = registry.Entry{Name: fmt.Sprintf("srv-%04d", i), Value: []byte(fmt.Sprintf(`{"i":%d}`, i)), Rev: int64(i + 1)}
		}
		beginLoad(t, reg, c, "u1", "tok")
		n, err := reg.CommitLoad(t.Context(), "u1", "tok", entries)
		require.NoError(t, err)
		assert.Equal(t, count, n)
		got := hgetAll(t, c, k.UserRegistry("u1"))
		revs := hgetAll(t, c, k.UserRevs("u1"))
		require.Len(t, got, count)
		require.Len(t, revs, count)
		for _, e := range entries {
			assert.Equal(t, string(e.Value), got[e.Name])
			assert.Equal(t, strconv.FormatInt(e.Rev, 10), revs[e.Name])
		}
	})
}

func TestIntegrationCommitLoadAppliesPendingWhenNewer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		snapshot  *registry.Entry // nil: the server is not in the snapshot
		op        registry.UserOp
		rev       int64
		wantValue string // "" : absent
		wantRev   string // "" : absent from revs
	}{
		{"set newer replaces", &registry.Entry{Value: []byte("snap"), Rev: 5}, registry.OpSet, 6, "op", "6"},
		{"set same rev ignored", &registry.Entry{Value: []byte("snap"), Rev: 5}, registry.OpSet, 5, "snap", "5"},
		{"set older ignored", &registry.Entry{Value: []byte("snap"), Rev: 5}, registry.OpSet, 4, "snap", "5"},
		{"set of absent adds", nil, registry.OpSet, 1, "op", "1"},
		{"set over rev 0 entry", &registry.Entry{Value: []byte("snap"), Rev: 0}, registry.OpSet, 1, "op", "1"},
		{"upd newer replaces", &registry.Entry{Value: []byte("snap"), Rev: 5}, registry.OpUpdate, 6, "op", "6"},
		{"upd older ignored", &registry.Entry{Value: []byte("snap"), Rev: 5}, registry.OpUpdate, 2, "snap", "5"},
		{"upd of absent does nothing", nil, registry.OpUpdate, 3, "", "3"},
		{"del newer removes", &registry.Entry{Value: []byte("snap"), Rev: 5}, registry.OpDelete, 6, "", "6"},
		{"del same rev ignored", &registry.Entry{Value: []byte("snap"), Rev: 5}, registry.OpDelete, 5, "snap", "5"},
		{"del of absent", nil, registry.OpDelete, 2, "", "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			k := reg.Keys()
			beginLoad(t, reg, c, "u1", "tok")
			res, err := reg.ApplyToUsers(t.Context(), "srv", tt.rev, []byte("op"), tt.op, []string{"u1"})
			require.NoError(t, err)
			require.Equal(t, []registry.UserResult{registry.ResultPending}, res)
			entries := []registry.Entry{{Name: "other", Value: []byte("x"), Rev: 1}}
			if tt.snapshot != nil {
				e := *tt.snapshot
				e.Name = "srv"
				entries = append(entries, e)
			}
			n, err := reg.CommitLoad(t.Context(), "u1", "tok", entries)
			require.NoError(t, err)
			want := map[string]string{"other": "x"}
			if tt.wantValue != "" {
				want["srv"] = tt.wantValue
			}
			assert.Equal(t, len(want), n)
			assert.Equal(t, want, hgetAll(t, c, k.UserRegistry("u1")))
			revs := hgetAll(t, c, k.UserRevs("u1"))
			got, ok := revs["srv"]
			if tt.wantRev == "" {
				assert.False(t, ok)
			} else {
				assert.Equal(t, tt.wantRev, got)
			}
			assert.False(t, exists(t, c, k.UserPending("u1")))
		})
	}
}

func TestIntegrationInvalidate(t *testing.T) {
	t.Parallel()
	t.Run("loaded user", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		loadUser(t, reg, c, "u1", registry.Entry{Name: "a", Value: []byte("v"), Rev: 1})
		loadUser(t, reg, c, "u2", registry.Entry{Name: "a", Value: []byte("v"), Rev: 1})
		require.NoError(t, reg.Invalidate(t.Context(), "u1"))
		for _, key := range []string{k.UserRegistry("u1"), k.UserLoaded("u1"), k.UserPending("u1"), k.UserRevs("u1")} {
			assert.False(t, exists(t, c, key), key)
		}
		assert.True(t, exists(t, c, k.UserLoaded("u2")), "other users untouched")
		assert.True(t, exists(t, c, k.UserRegistry("u2")))
	})
	t.Run("load in progress is superseded", func(t *testing.T) {
		t.Parallel()
		reg, c := newRegistry(t)
		k := reg.Keys()
		beginLoad(t, reg, c, "u1", "tok")
		require.NoError(t, reg.Invalidate(t.Context(), "u1"))
		assert.False(t, exists(t, c, k.UserPending("u1")))
		_, err := reg.CommitLoad(t.Context(), "u1", "tok", []registry.Entry{{Name: "a", Value: []byte("v"), Rev: 1}})
		require.ErrorIs(t, err, registry.ErrSuperseded)
		assert.False(t, exists(t, c, k.UserLoaded("u1")))
		assert.False(t, exists(t, c, k.UserRegistry("u1")))
	})
}
