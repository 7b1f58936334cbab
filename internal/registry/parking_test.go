package registry_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIntegrationParking(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	ctx := t.Context()
	for _, e := range []string{"a", "b", "a"} {
		require.NoError(t, reg.Park(ctx, "mongodb", []byte(e)))
	}
	got, err := reg.Parked(ctx, "mongodb", 2)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("a"), []byte("b")}, got, "oldest first, at most n")
	require.NoError(t, reg.Unpark(ctx, "mongodb", []byte("a")))
	got, err = reg.Parked(ctx, "mongodb", 10)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("b"), []byte("a")}, got, "one occurrence removed")
	n, err := c.LLen(ctx, reg.Keys().Parked("mongodb")).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	empty, err := reg.Parked(ctx, "redis", 10)
	require.NoError(t, err)
	assert.Empty(t, empty)
}
