package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/reader"
)

// UserOp is the membership change one user gets from a server flow.
type UserOp string

// The user operations (see lua/apply_user.lua).
const (
	OpSet    UserOp = "set" // give the server
	OpDelete UserOp = "del" // take it away
)

// UserResult is what apply_user.lua did for one user.
type UserResult int

// The results of apply_user.lua.
const (
	ResultNotLoaded UserResult = 0 // neither loaded nor loading: untouched
	ResultApplied   UserResult = 1 // the membership reflects the change
	ResultPending   UserResult = 2 // recorded for the load in progress
	ResultNotHeld   UserResult = 3 // del of a server the loaded user did not hold
	ResultStale     UserResult = 4 // a newer change was applied already
)

// FanoutChunk is how many users one pipelined round trip of a fan-out covers.
const FanoutChunk = 500

// ServerSet names one of a server's user sets.
type ServerSet string

// The user sets kept per server.
const (
	SetAllowed ServerSet = "allowed set"
	SetRevoke  ServerSet = "revoke set"
)

// EachMember calls fn with the members of a server's allowed or revoke set in
// chunks of about FanoutChunk (SSCAN of that one set), so a fan-out to 100k
// users runs in bounded memory. Members present for the whole walk are seen
// at least once.
func (r *Registry) EachMember(ctx context.Context, server string, set ServerSet, fn func(users []string) error) error {
	key := r.keys.ServerAllowed(server)
	if set == SetRevoke {
		key = r.keys.ServerRevoke(server)
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

// EachHolder calls fn with the users of the server's login-holder index, one
// bucket (or one HSCAN page of a big bucket) at a time. The first page of every
// bucket is read in one pipelined round trip.
func (r *Registry) EachHolder(ctx context.Context, server string, fn func(users []string) error) error {
	type page struct {
		bucket int
		cursor uint64
	}
	todo := make([]page, HolderBuckets)
	for b := range todo {
		todo[b] = page{bucket: b}
	}
	for len(todo) > 0 {
		cmds := make([]*redis.ScanCmd, len(todo))
		_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, pg := range todo {
				// HSCAN NOVALUES needs Redis 7.4: take the fields of field/value pairs.
				cmds[i] = p.HScan(ctx, r.keys.ServerHolders(server, pg.bucket), pg.cursor, "", FanoutChunk)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("walk holders of %s: %w", server, err)
		}
		var next []page
		var users []string
		for i, c := range cmds {
			kv, cursor := c.Val()
			for j := 0; j < len(kv); j += 2 {
				users = append(users, kv[j])
			}
			if cursor != 0 {
				next = append(next, page{bucket: todo[i].bucket, cursor: cursor})
			}
			if len(users) >= FanoutChunk {
				if err := fn(users); err != nil {
					return err
				}
				users = nil
			}
		}
		if len(users) > 0 {
			if err := fn(users); err != nil {
				return err
			}
		}
		todo = next
	}
	return nil
}

// AllowedAmong reports, for each user, whether the server's allowed set holds
// it (one round trip).
func (r *Registry) AllowedAmong(ctx context.Context, server string, users []string) ([]bool, error) {
	in, err := r.rdb.SMIsMember(ctx, r.keys.ServerAllowed(server), toAny(users)...).Result()
	if err != nil {
		return nil, fmt.Errorf("allowed set of %s: %w", server, err)
	}
	return in, nil
}

// ApplyToUsers applies op (at record revision rev) to each user's membership,
// one pipelined round trip per call, and returns each user's result. Under
// WithAudit, each membership change is recorded in the user's audit outbox by
// the same script, and the outboxes found non-empty (this call's records, or
// those a crashed worker left) are drained before it returns; a drain that
// fails is put off (AuditFailed), never the call's error.
func (r *Registry) ApplyToUsers(ctx context.Context, server string, rev int64, op UserOp, users []string) ([]UserResult, error) {
	if len(users) == 0 {
		return nil, nil
	}
	cmds, err := r.applyPipeline(ctx, server, rev, op, users)
	if err != nil && isNoScript(err) {
		if err := loadScript(ctx, r.rdb, applyUserScript); err != nil {
			return nil, err
		}
		cmds, err = r.applyPipeline(ctx, server, rev, op, users)
	}
	if err != nil {
		return nil, fmt.Errorf("apply %s of %s to %d users: %w", op, server, len(users), err)
	}
	results := make([]UserResult, len(users))
	var outboxes []string
	for i, c := range cmds {
		reply, _ := c.Int64Slice()
		if len(reply) != 2 {
			return nil, fmt.Errorf("apply %s of %s to %s: unexpected reply %v", op, server, users[i], reply)
		}
		results[i] = UserResult(reply[0])
		if reply[1] > 0 {
			outboxes = append(outboxes, r.keys.UserAudit(users[i]))
		}
	}
	// A failed drain does not stop the fan-out (a revoke must not wait for
	// the audit stream): put off, returned by AuditFailed, and no further
	// drain is tried under ctx (the records wait for the redelivery).
	if AuditFailed(ctx) == nil {
		if err := r.drainAudit(ctx, outboxes); err != nil {
			putOffAudit(ctx, fmt.Errorf("apply %s of %s: %w", op, server, err))
		}
	}
	return results, nil
}

func (r *Registry) applyPipeline(ctx context.Context, server string, rev int64, op UserOp, users []string) ([]*redis.Cmd, error) {
	k := r.keys
	cause, outboxTTL := auditArgs(ctx)
	cmds := make([]*redis.Cmd, len(users))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range users {
			cmds[i] = applyUserScript.EvalSha(ctx, p,
				[]string{k.UserMembers(u), k.UserPending(u), k.UserFeed(u), k.UserAudit(u)},
				server, string(op), rev, u, r.cfg.PendingTTL.Milliseconds(), cause, outboxTTL)
		}
		return nil
	})
	return cmds, err
}

// PruneHolders removes users who no longer hold the server from its holder
// index. It removes first and then looks again, adding back any user who is
// loading or holds the server by then, so a concurrent load's own entry is
// never lost. Two round trips.
func (r *Registry) PruneHolders(ctx context.Context, server string, users []string) error {
	if len(users) == 0 {
		return nil
	}
	k := r.keys
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, u := range users {
			p.HDel(ctx, k.ServerHolders(server, HolderBucket(u)), u)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prune holders of %s: %w", server, err)
	}
	loading := make([]*redis.IntCmd, len(users))
	held := make([]*redis.StringCmd, len(users))
	_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range users {
			loading[i] = p.Exists(ctx, k.UserPending(u))
			held[i] = p.HGet(ctx, k.UserMembers(u), server)
		}
		return nil
	})
	if err != nil && !isNil(err) {
		return fmt.Errorf("prune holders of %s: %w", server, err)
	}
	var back []string
	for i, u := range users {
		if loading[i].Val() > 0 || reader.IsMember(server, held[i].Val()) {
			back = append(back, u)
		}
	}
	if len(back) == 0 {
		return nil
	}
	_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, u := range back {
			p.HSet(ctx, k.ServerHolders(server, HolderBucket(u)), u, "1")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prune holders of %s: %w", server, err)
	}
	return nil
}

func isNoScript(err error) bool { return strings.Contains(err.Error(), "NOSCRIPT") }

func isNil(err error) bool { return errors.Is(err, redis.Nil) }

// loadScript loads s on every node (go-redis loads every shard of a cluster).
func loadScript(ctx context.Context, rdb redis.UniversalClient, s *redis.Script) error {
	if err := s.Load(ctx, rdb).Err(); err != nil {
		return fmt.Errorf("load script: %w", err)
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
