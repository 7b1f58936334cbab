package registry

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/reader/layout"
)

// LoadedUsers counts the users of the index of loaded users whose registry
// has not expired: one ZCOUNT per shard, in one pipeline (O(log n) each; no
// member is read). Entries not yet pruned but expired are not counted. A
// user loaded before the index existed is not counted until its next load.
func (r *Registry) LoadedUsers(ctx context.Context) (int64, error) {
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	counts := make([]*redis.IntCmd, layout.LoadedIndexShards)
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for n := range layout.LoadedIndexShards {
			counts[n] = p.ZCount(ctx, r.keys.LoadedIndex(n), now, "+inf")
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count loaded users: %w", err)
	}
	var total int64
	for _, c := range counts {
		total += c.Val()
	}
	return total, nil
}
