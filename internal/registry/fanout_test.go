package registry_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

func TestIntegrationEachMember(t *testing.T) {
	t.Parallel()
	for _, set := range []registry.ServerSet{registry.SetAllowed, registry.SetRevoke} {
		t.Run(string(set), func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			k := reg.Keys()
			key, other := k.ServerAllowed("srv"), k.ServerRevoke("srv")
			if set == registry.SetRevoke {
				key, other = other, key
			}
			const count = 2000
			want := make([]any, count)
			for i := range want {
				want[i] = fmt.Sprintf("user-%04d", i)
			}
			require.NoError(t, c.SAdd(t.Context(), key, want...).Err())
			require.NoError(t, c.SAdd(t.Context(), other, "not-in-this-set").Err())

			seen := map[string]int{}
			chunks := 0
			err := reg.EachMember(t.Context(), "srv", set, func(users []string) error {
				chunks++
				assert.NotEmpty(t, users)
				assert.LessOrEqual(t, len(users), 2*registry.FanoutChunk, "chunk bounded")
				for _, u := range users {
					seen[u]++
				}
				return nil
			})
			require.NoError(t, err)
			assert.Greater(t, chunks, 1, "walked in chunks")
			assert.Len(t, seen, count)
			for u, n := range seen {
				assert.Equal(t, 1, n, u)
			}
			assert.NotContains(t, seen, "not-in-this-set")
		})
	}
}

func TestIntegrationEachMemberEmptyAndError(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	calls := 0
	require.NoError(t, reg.EachMember(t.Context(), "srv", registry.SetRevoke, func([]string) error {
		calls++
		return nil
	}))
	assert.Zero(t, calls, "an empty set calls fn never")

	require.NoError(t, c.SAdd(t.Context(), reg.Keys().ServerRevoke("srv"), "a", "b").Err())
	boom := errors.New("boom")
	err := reg.EachMember(t.Context(), "srv", registry.SetRevoke, func([]string) error { return boom })
	assert.ErrorIs(t, err, boom)
}

// holders returns n user ids, of which big fall in one bucket (so that the
// bucket outgrows the compact encoding and HSCAN pages through it).
func holders(n, big int) []string {
	var out []string
	target := -1
	for i := 0; len(out) < n; i++ {
		u := fmt.Sprintf("user-%06d", i)
		b := registry.HolderBucket(u)
		if target < 0 {
			target = b
		}
		if b == target && big > 0 {
			out = append(out, u)
			big--
			continue
		}
		if b != target && len(out)+big < n {
			out = append(out, u)
		}
	}
	return out
}

func writeHolders(t *testing.T, reg *registry.Registry, c redis.UniversalClient, server string, users []string) {
	t.Helper()
	_, err := c.Pipelined(t.Context(), func(p redis.Pipeliner) error {
		for _, u := range users {
			p.HSet(t.Context(), reg.Keys().ServerHolders(server, registry.HolderBucket(u)), u, "1")
		}
		return nil
	})
	require.NoError(t, err)
}

func TestIntegrationEachHolder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		n, big int
	}{
		{"2000 spread over the buckets", 2000, 0},
		{"2000, 1200 of them in one bucket", 2000, 1200},
		{"one", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			users := holders(tt.n, tt.big)
			require.Len(t, users, tt.n)
			writeHolders(t, reg, c, "srv", users)
			writeHolders(t, reg, c, "other", []string{"not-a-holder-of-srv"})

			seen := map[string]bool{}
			err := reg.EachHolder(t.Context(), "srv", func(batch []string) error {
				assert.NotEmpty(t, batch)
				for _, u := range batch {
					seen[u] = true
				}
				return nil
			})
			require.NoError(t, err)
			want := map[string]bool{}
			for _, u := range users {
				want[u] = true
			}
			assert.Equal(t, want, seen, "every holder, across buckets and pages")
		})
	}
}

func TestIntegrationEachHolderEmptyAndError(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	calls := 0
	require.NoError(t, reg.EachHolder(t.Context(), "srv", func([]string) error {
		calls++
		return nil
	}))
	assert.Zero(t, calls)
	writeHolders(t, reg, c, "srv", holders(50, 0))
	boom := errors.New("boom")
	assert.ErrorIs(t, reg.EachHolder(t.Context(), "srv", func([]string) error { return boom }), boom)
}

func TestIntegrationAllowedAmong(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	require.NoError(t, c.SAdd(t.Context(), reg.Keys().ServerAllowed("srv"), "a", "c").Err())
	in, err := reg.AllowedAmong(t.Context(), "srv", []string{"a", "b", "c", "d"})
	require.NoError(t, err)
	assert.Equal(t, []bool{true, false, true, false}, in)
	in, err = reg.AllowedAmong(t.Context(), "unknown", []string{"a"})
	require.NoError(t, err)
	assert.Equal(t, []bool{false}, in)
}

func TestIntegrationPruneHolders(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	loadUser(t, reg, c, "holds", registry.Entry{Name: "srv", Rev: 1})
	beginLoad(t, reg, c, "loading", "tok")
	loadUser(t, reg, c, "loaded-without", registry.Entry{Name: "x", Rev: 1})
	loadUser(t, reg, c, "tombstone", registry.Entry{Name: "srv", Rev: 1})
	res, err := reg.ApplyToUsers(t.Context(), "srv", 2, registry.OpDelete, []string{"tombstone"})
	require.NoError(t, err)
	require.Equal(t, []registry.UserResult{registry.ResultApplied}, res)
	writeHolders(t, reg, c, "srv", []string{"holds", "loading", "loaded-without", "tombstone", "idle", "untouched"})
	writeHolders(t, reg, c, "other", []string{"idle"})

	require.NoError(t, reg.PruneHolders(t.Context(), "srv",
		[]string{"holds", "loading", "loaded-without", "tombstone", "idle", "holds-not-indexed"}))
	got := map[string]bool{}
	require.NoError(t, reg.EachHolder(t.Context(), "srv", func(users []string) error {
		for _, u := range users {
			got[u] = true
		}
		return nil
	}))
	assert.Equal(t, map[string]bool{"holds": true, "loading": true, "untouched": true}, got,
		"a holder who holds the server or is loading is kept; others removed; users not passed untouched")
	for _, u := range []string{"holds", "loading"} {
		assert.Equal(t, "1", hgetAll(t, c, reg.Keys().ServerHolders("srv", registry.HolderBucket(u)))[u], u)
	}
	assert.Equal(t, "1", hgetAll(t, c, reg.Keys().ServerHolders("other", registry.HolderBucket("idle")))["idle"],
		"another server's index untouched")
	require.NoError(t, reg.PruneHolders(t.Context(), "srv", nil))
}
