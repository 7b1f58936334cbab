package registry

import (
	"context"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/reader"
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

// Server reads a server's record and the users who hold it privately right
// now: the allowed set and the holder index, each checked against the
// user's membership. O(allowed + holders): an operator's tool.
func (r *Registry) Server(ctx context.Context, name string) (ServerView, error) {
	rec, err := r.Record(ctx, name)
	if err != nil {
		return ServerView{}, err
	}
	candidates := map[string]bool{}
	collect := func(users []string) error {
		for _, u := range users {
			candidates[u] = true
		}
		return nil
	}
	if err := r.EachMember(ctx, name, SetAllowed, collect); err != nil {
		return ServerView{}, err
	}
	if err := r.EachHolder(ctx, name, collect); err != nil {
		return ServerView{}, err
	}
	users := make([]string, 0, len(candidates))
	for u := range candidates {
		users = append(users, u)
	}
	held := make([]*redis.StringCmd, len(users))
	if len(users) > 0 {
		_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, u := range users {
				held[i] = p.HGet(ctx, r.keys.UserMembers(u), name)
			}
			return nil
		})
		if err != nil && !isNil(err) {
			return ServerView{}, fmt.Errorf("read registries holding %s: %w", name, err)
		}
	}
	v := ServerView{ServerName: name, Scope: string(rec.Scope), Version: rec.Version(), CachedFor: []string{}}
	if rec.Scope != ScopeDeleted && rec.HasValue && rec.Scope != ScopePublic {
		for i, u := range users {
			if reader.IsMember(name, held[i].Val()) {
				v.CachedFor = append(v.CachedFor, u)
			}
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
