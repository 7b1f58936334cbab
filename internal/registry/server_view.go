package registry

import (
	"context"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"
)

// ServerView is a server as `worker inspect server` shows it.
type ServerView struct {
	ServerName string `json:"serverName"`
	// Scope is private, public, deleted, or unknown (no event and no load has seen it).
	Scope     string   `json:"scope"`
	Tier      *Tier    `json:"tier"`
	Version   int64    `json:"version"`
	CachedFor []string `json:"cachedFor"`
}

// Record reads a server's record (one round trip).
func (r *Registry) Record(ctx context.Context, name string) (Record, error) {
	vals, err := r.rdb.HMGet(ctx, r.keys.ServerRecord(name), recordFields...).Result()
	if err != nil {
		return Record{}, fmt.Errorf("read record of %s: %w", name, err)
	}
	return parseRecord(name, vals), nil
}

// Server reads a server's record and the users who have it cached right now
// (the reverse index, checked against each user's registry, so members whose
// registry expired are not listed). O(reverse index size): an operator's tool.
func (r *Registry) Server(ctx context.Context, name string) (ServerView, error) {
	rec, err := r.Record(ctx, name)
	if err != nil {
		return ServerView{}, err
	}
	members, err := r.rdb.SMembers(ctx, r.keys.ServerCachedBy(name)).Result()
	if err != nil {
		return ServerView{}, fmt.Errorf("read reverse index of %s: %w", name, err)
	}
	cached := make([]*redis.BoolCmd, len(members))
	if len(members) > 0 {
		_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, u := range members {
				cached[i] = p.HExists(ctx, r.keys.UserRegistry(u), name)
			}
			return nil
		})
		if err != nil {
			return ServerView{}, fmt.Errorf("read registries caching %s: %w", name, err)
		}
	}
	v := ServerView{ServerName: name, Scope: string(rec.Scope), Version: rec.Version(), CachedFor: []string{}}
	for i, u := range members {
		if cached[i].Val() {
			v.CachedFor = append(v.CachedFor, u)
		}
	}
	slices.Sort(v.CachedFor)
	if rec.Scope == ScopePublic && rec.Tier != "" {
		t := rec.Tier
		v.Tier = &t
	}
	if v.Scope == "" {
		v.Scope = "unknown"
		if rec.DBID != "" || len(v.CachedFor) > 0 {
			v.Scope = string(ScopePrivate)
		}
	}
	return v, nil
}
