package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// UserOp is the change one user's private registry gets from a server flow.
type UserOp string

// The user operations (see lua/apply_user.lua).
const (
	OpSet    UserOp = "set" // add or replace
	OpUpdate UserOp = "upd" // replace only where cached
	OpDelete UserOp = "del" // remove
)

// UserResult is what apply_user.lua did for one user.
type UserResult int

// The results of apply_user.lua.
const (
	ResultNotLoaded UserResult = 0 // neither loaded nor loading: untouched
	ResultApplied   UserResult = 1 // the registry reflects the change
	ResultPending   UserResult = 2 // recorded for the load in progress
	ResultNotCached UserResult = 3 // loaded, server not cached: nothing to change
	ResultStale     UserResult = 4 // a newer change was applied already
)

// FanoutChunk is how many users one pipelined round trip of a fan-out covers.
const FanoutChunk = 500

// EachMember calls fn with the members of a server's reverse index (which)
// or allowed set in chunks of about FanoutChunk (SSCAN of that one set), so a
// fan-out to 100k users runs in bounded memory. Members present for the whole
// walk are seen at least once.
func (r *Registry) EachMember(ctx context.Context, server string, set ServerSet, fn func(users []string) error) error {
	key := r.keys.ServerCachedBy(server)
	if set == SetAllowed {
		key = r.keys.ServerAllowed(server)
	}
	var cursor uint64
	for {
		users, next, err := r.rdb.SScan(ctx, key, cursor, "", FanoutChunk).Result()
		if err != nil {
			return fmt.Errorf("walk %s of %s: %w", set, server, err)
		}
		if len(users) > 0 {
			if err := fn(users); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// ServerSet names one of a server's user sets.
type ServerSet string

// The user sets kept per server.
const (
	SetCachedBy ServerSet = "reverse index"
	SetAllowed  ServerSet = "allowed set"
)

// AllowedAmong reports, for each user, whether the server's allowed set holds
// it (one round trip).
func (r *Registry) AllowedAmong(ctx context.Context, server string, users []string) ([]bool, error) {
	in, err := r.rdb.SMIsMember(ctx, r.keys.ServerAllowed(server), toAny(users)...).Result()
	if err != nil {
		return nil, fmt.Errorf("allowed set of %s: %w", server, err)
	}
	return in, nil
}

// ApplyToUsers applies op (value at record revision rev) to each user's
// private registry, one pipelined round trip per call, and keeps the reverse
// index in step: users a set gave the server to, now or when their load
// commits, are added to it. It returns each user's result.
func (r *Registry) ApplyToUsers(ctx context.Context, server string, rev int64, value []byte, op UserOp, users []string) ([]UserResult, error) {
	if len(users) == 0 {
		return nil, nil
	}
	cmds, err := r.applyPipeline(ctx, server, rev, value, op, users)
	if err != nil && isNoScript(err) {
		if err := applyUserScript.Load(ctx, r.rdb).Err(); err != nil {
			return nil, fmt.Errorf("load apply script: %w", err)
		}
		cmds, err = r.applyPipeline(ctx, server, rev, value, op, users)
	}
	if err != nil {
		return nil, fmt.Errorf("apply %s of %s to %d users: %w", op, server, len(users), err)
	}
	results := make([]UserResult, len(users))
	var holders []string
	for i, c := range cmds {
		n, _ := c.Int()
		results[i] = UserResult(n)
		// upd only reaches users walked from the reverse index: already in it.
		if op == OpSet && (results[i] == ResultApplied || results[i] == ResultPending) {
			holders = append(holders, users[i])
		}
	}
	if len(holders) > 0 {
		if err := r.rdb.SAdd(ctx, r.keys.ServerCachedBy(server), toAny(holders)...).Err(); err != nil {
			return nil, fmt.Errorf("reverse index of %s: %w", server, err)
		}
	}
	return results, nil
}

func (r *Registry) applyPipeline(ctx context.Context, server string, rev int64, value []byte, op UserOp, users []string) ([]*redis.Cmd, error) {
	k := r.keys
	cmds := make([]*redis.Cmd, len(users))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range users {
			cmds[i] = applyUserScript.EvalSha(ctx, p,
				[]string{k.UserRegistry(u), k.UserLoaded(u), k.UserPending(u), k.UserRevs(u)},
				server, string(op), value, rev)
		}
		return nil
	})
	return cmds, err
}

// PruneCachedBy removes users that are neither loaded nor loading from the
// server's reverse index. It removes first and then looks again, adding back
// any user whose load began meanwhile, so a concurrent load's own entry is
// never lost. Two round trips.
func (r *Registry) PruneCachedBy(ctx context.Context, server string, users []string) error {
	if len(users) == 0 {
		return nil
	}
	k := r.keys
	if err := r.rdb.SRem(ctx, k.ServerCachedBy(server), toAny(users)...).Err(); err != nil {
		return fmt.Errorf("prune reverse index of %s: %w", server, err)
	}
	active := make([]*redis.IntCmd, len(users))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range users {
			active[i] = p.Exists(ctx, k.UserLoaded(u), k.UserPending(u))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prune reverse index of %s: %w", server, err)
	}
	var back []string
	for i, c := range active {
		if c.Val() > 0 {
			back = append(back, users[i])
		}
	}
	if len(back) > 0 {
		if err := r.rdb.SAdd(ctx, k.ServerCachedBy(server), toAny(back)...).Err(); err != nil {
			return fmt.Errorf("prune reverse index of %s: %w", server, err)
		}
	}
	return nil
}

func isNoScript(err error) bool { return strings.Contains(err.Error(), "NOSCRIPT") }

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
