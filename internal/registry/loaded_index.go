package registry

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/reader"
	"github.com/mcp-registry/worker/reader/layout"
)

// The index of loaded users (ClaimServers adds to it) is what reconcile walks:
// it holds no registry data, and a missing entry only skips the user in a
// reconcile pass.

// EachLoaded calls fn with the users of the index of loaded users whose
// registry has not expired, shard by shard in pages of FanoutChunk, pruning
// expired entries as it goes. No SCAN: one sorted set per shard.
func (r *Registry) EachLoaded(ctx context.Context, fn func(users []string) error) error {
	for n := range layout.LoadedIndexShards {
		key := r.keys.LoadedIndex(n)
		now := strconv.FormatInt(time.Now().UnixMilli(), 10)
		if err := r.rdb.ZRemRangeByScore(ctx, key, "-inf", "("+now).Err(); err != nil {
			return fmt.Errorf("prune loaded index: %w", err)
		}
		var offset int64
		for {
			users, err := r.rdb.ZRangeByScore(ctx, key, &redis.ZRangeBy{Min: now, Max: "+inf", Offset: offset, Count: FanoutChunk}).Result()
			if err != nil {
				return fmt.Errorf("walk loaded index: %w", err)
			}
			if len(users) > 0 {
				if err := fn(users); err != nil {
					return err
				}
			}
			if len(users) < FanoutChunk {
				break
			}
			offset += int64(len(users))
		}
	}
	return nil
}

// Members returns the servers user holds (qualified names -> consumeOnly),
// and whether the user is loaded. One round trip; read only.
func (r *Registry) Members(ctx context.Context, user string) (map[string]bool, bool, error) {
	m, err := r.rdb.HGetAll(ctx, r.keys.UserMembers(user)).Result()
	if err != nil {
		return nil, false, fmt.Errorf("members of %s: %w", user, err)
	}
	if _, loaded := m[LoadedField]; !loaded {
		return nil, false, nil
	}
	out := map[string]bool{}
	for name, v := range m {
		if reader.IsMember(name, v) {
			out[name] = reader.IsConsumeOnly(v)
		}
	}
	return out, true, nil
}

// ReadServers reads the records of the named servers and, for those whose
// access changed at or after accessSince, whether user is in the allowed
// set: what ClaimServers reads, without claiming (no write). Reconcile
// compares with it before deciding to refresh.
func (r *Registry) ReadServers(ctx context.Context, user string, names []string, accessSince int64) ([]ServerState, error) {
	if len(names) == 0 {
		return nil, nil
	}
	recs := make([]*redis.SliceCmd, len(names))
	allowed := make([]*redis.BoolCmd, len(names))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range names {
			recs[i] = p.HMGet(ctx, r.keys.ServerRecord(name), recordFields...)
			allowed[i] = p.SIsMember(ctx, r.keys.ServerAllowed(name), user)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read servers for %s: %w", user, err)
	}
	states := make([]ServerState, len(names))
	for i, name := range names {
		states[i] = ServerState{Record: parseRecord(name, recs[i].Val())}
		if states[i].AccessVersion > 0 && states[i].AccessChangedAtMs >= accessSince {
			states[i].Allowed = allowed[i].Val()
		}
	}
	return states, nil
}
