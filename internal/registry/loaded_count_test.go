package registry_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/reader/layout"
)

// LoadedUsers counts the users claims put in the index, across shards, and
// not those whose entry has expired but was not pruned yet.
func TestIntegrationLoadedUsersCountsLiveEntries(t *testing.T) {
	reg, c := newRegistry(t)
	ctx := t.Context()
	n, err := reg.LoadedUsers(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)

	for i := range 5 {
		_, err := reg.ClaimServers(ctx, fmt.Sprintf("user-%d", i), nil, 0)
		require.NoError(t, err)
	}
	expired := "user-expired"
	past := float64(time.Now().Add(-time.Minute).UnixMilli())
	require.NoError(t, c.ZAdd(ctx, reg.Keys().LoadedIndex(layout.LoadedShard(expired)), redis.Z{Score: past, Member: expired}).Err())

	n, err = reg.LoadedUsers(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(5), n)
}
