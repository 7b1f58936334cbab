package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/internal/registry"
)

// reference is a small re-implementation of the ORIGINAL loader's Redis
// work, the yardstick every figure of BenchmarkTargets is divided by. It is
// not production code and keeps none of layout 2's guarantees (no fencing, no
// pending changes during a load); it only does the original's Redis commands:
//
//   - one key per (user, server), a string holding the JSON value
//     (registry.Value: config, dbId, updatedAt, lastUpdatedAt), with the
//     cache TTL;
//   - a loaded flag per user (string, cache TTL);
//   - a set of holders per server (user ids), which replaces the original's
//     SCAN for the keys of a server: the original minus its SCAN.
//
// A cold load (referenceLoginCommands = 19 commands for 5 servers) is:
// EXISTS flag; SET lock NX PX; GET of each entry's key (an existing value
// whose lastUpdatedAt is at least MongoDB's is kept); SET (PX ttl) of each
// entry and SADD of the user to each server's holder set; SET flag PX ttl;
// DEL lock. Commands that do not depend on each other's replies are
// pipelined (5 round trips), which favours the reference: a loader sending
// them one by one would be slower, not faster.
//
// An update is one SET (XX KEEPTTL) per holder, holders read by SSCAN of the
// server's holder set in pages of registry.FanoutChunk, each page's SETs in
// one pipeline.
//
// Key names are as short as layout 2's (the same 4-byte prefix length and
// hash tags), so that the memory ratio is not flattered by long names.
type reference struct {
	rdb    *redis.Client
	hook   *counter
	source *memSource
	ttl    time.Duration
	lock   time.Duration
	tokens atomic.Int64
}

// referenceLoginCommands is the number of Redis commands of a cold reference
// load of n servers: EXISTS, SET NX, n GET, n SET, n SADD, SET flag, DEL.
func referenceLoginCommands(n int) int { return 4 + 3*n }

// newReference returns the reference on its own hooked client of w's
// redis-server, with w's cache TTL and lock TTL, reading w's source.
func newReference(tb testing.TB, w *world) *reference {
	tb.Helper()
	opts, err := redis.ParseURL("redis://" + w.redis.Addr)
	if err != nil {
		tb.Fatalf("redis url: %v", err)
	}
	rdb := redis.NewClient(opts)
	tb.Cleanup(func() { _ = rdb.Close() })
	hook := &counter{}
	rdb.AddHook(hook)
	return &reference{rdb: rdb, hook: hook, source: w.source, ttl: registry.DefaultConfig().CacheTTL, lock: 10 * time.Second}
}

func refUser(user, part string) string {
	return "ref:{u:" + registry.EscapeID(user) + "}:" + part
}

func refValueKey(user, server string) string { return refUser(user, "v:"+registry.EscapeID(server)) }
func refFlagKey(user string) string          { return refUser(user, "loaded") }
func refLockKey(user string) string          { return refUser(user, "lock") }
func refHoldersKey(server string) string     { return "ref:{s:" + registry.EscapeID(server) + "}:holders" }

var errRefLocked = errors.New("reference: user locked")

// login is the reference's cold load (a warm one stops after the EXISTS).
func (r *reference) login(ctx context.Context, user string) error {
	if n, err := r.rdb.Exists(ctx, refFlagKey(user)).Result(); err != nil || n == 1 {
		return err
	}
	token := strconv.FormatInt(r.tokens.Add(1), 10)
	ok, err := r.rdb.SetNX(ctx, refLockKey(user), token, r.lock).Result()
	if err != nil {
		return err
	}
	if !ok {
		return errRefLocked
	}
	servers, err := r.source.AccessibleServers(ctx, user)
	if err != nil {
		return err
	}
	old := make([]*redis.StringCmd, len(servers))
	if len(servers) > 0 {
		_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, s := range servers {
				old[i] = p.Get(ctx, refValueKey(user, s.Name))
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	values := make([][]byte, len(servers))
	for i, s := range servers {
		if keepCached(old[i].Val(), s.UpdatedAtMs) {
			continue
		}
		if values[i], err = registry.Value(s.Config, s.DBID, s.UpdatedAtMs); err != nil {
			return err
		}
	}
	_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range servers {
			if values[i] != nil {
				p.Set(ctx, refValueKey(user, s.Name), values[i], r.ttl)
			}
			p.SAdd(ctx, refHoldersKey(s.Name), user)
		}
		p.Set(ctx, refFlagKey(user), time.Now().UnixMilli(), r.ttl)
		return nil
	})
	if err != nil {
		return err
	}
	return r.rdb.Del(ctx, refLockKey(user)).Err()
}

// keepCached reports whether a cached value is at least as new as MongoDB's.
func keepCached(cached string, updatedAtMs int64) bool {
	if cached == "" {
		return false
	}
	var v struct {
		LastUpdatedAt int64 `json:"lastUpdatedAt"`
	}
	return json.Unmarshal([]byte(cached), &v) == nil && v.LastUpdatedAt >= updatedAtMs
}

// update writes value to every holder's key of server and returns how many
// keys it wrote (a holder whose key expired is skipped by XX).
func (r *reference) update(ctx context.Context, server string, value []byte) (int, error) {
	written := 0
	var cursor uint64
	for {
		users, next, err := r.rdb.SScan(ctx, refHoldersKey(server), cursor, "", registry.FanoutChunk).Result()
		if err != nil {
			return written, err
		}
		if len(users) > 0 {
			cmds := make([]*redis.StatusCmd, len(users))
			_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, u := range users {
					cmds[i] = p.SetArgs(ctx, refValueKey(u, server), value, redis.SetArgs{Mode: "XX", KeepTTL: true})
				}
				return nil
			})
			if err != nil && !errors.Is(err, redis.Nil) {
				return written, err
			}
			for _, c := range cmds {
				if c.Val() == "OK" {
					written++
				}
			}
		}
		if next == 0 {
			return written, nil
		}
		cursor = next
	}
}

// bulkHolders writes what n reference cold loads of users holding the one
// server would leave for it (its value key and holder-set membership per
// user, flag included), by pipelined writes instead of logins.
func (r *reference) bulkHolders(ctx context.Context, tb testing.TB, users []string, server string, value []byte) {
	tb.Helper()
	for chunk := range slices.Chunk(users, 10_000) {
		_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, u := range chunk {
				p.Set(ctx, refValueKey(u, server), value, r.ttl)
				p.Set(ctx, refFlagKey(u), 1, r.ttl)
			}
			p.SAdd(ctx, refHoldersKey(server), toAnys(chunk)...)
			return nil
		})
		if err != nil {
			tb.Fatalf("reference bulk holders: %v", err)
		}
	}
}

// countRefValues returns how many of users' reference keys for server hold want.
func countRefValues(ctx context.Context, tb testing.TB, r *reference, users []string, server string, want []byte) int {
	tb.Helper()
	n := 0
	for chunk := range slices.Chunk(users, 10_000) {
		cmds := make([]*redis.StringCmd, len(chunk))
		_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, u := range chunk {
				cmds[i] = p.Get(ctx, refValueKey(u, server))
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			tb.Fatalf("read reference values: %v", err)
		}
		for _, c := range cmds {
			if c.Val() == string(want) {
				n++
			}
		}
	}
	return n
}

func toAnys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// config300 returns a config of exactly 300 bytes (the size target 2 is
// stated for) whose rev field tells revisions apart.
func config300(name string, rev int) []byte {
	c := configJSON(name, rev)
	pad := 300 - len(c) - len(`,"description":""`)
	if pad < 0 {
		panic(fmt.Sprintf("config of %q is over 300 bytes", name))
	}
	out := append([]byte{}, c[:len(c)-1]...)
	out = fmt.Appendf(out, `,"description":"%s"}`, padding(pad))
	return out
}

func padding(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return string(b)
}
