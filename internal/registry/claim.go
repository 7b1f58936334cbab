package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/reader/layout"
)

// ServerState is what a login load needs to know about one server it read
// from MongoDB: the server's record, and whether the user is in its allowed set.
type ServerState struct {
	Record
	// Allowed reports whether the user is in the record's allowed set; it is
	// read only for records whose access changed at or after the accessSince
	// given to ClaimServers (false otherwise).
	Allowed bool
}

// ClaimServers adds user to the login-holder index of every named server and
// to the index of loaded users (what reconcile walks: an entry for a load
// that then fails only makes reconcile look at a user who is not loaded),
// then reads the records: one pipelined round trip. The order matters (DESIGN
// "login versus revoke"): a change whose record update comes before this read
// is seen here; one that comes after walks the holder index and finds the
// user. Only for records whose access changed at or after accessSince (Redis
// clock, ms) it also asks whether the user is in the allowed set, in a second
// round trip (rare: an access change racing the load).
func (r *Registry) ClaimServers(ctx context.Context, user string, names []string, accessSince int64) ([]ServerState, error) {
	k := r.keys
	bucket := HolderBucket(user)
	until := time.Now().Add(r.cfg.CacheTTL).UnixMilli()
	recs := make([]*redis.SliceCmd, len(names))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, k.LoadedIndex(layout.LoadedShard(user)), redis.Z{Score: float64(until), Member: user})
		for i, name := range names {
			p.HSet(ctx, k.ServerHolders(name, bucket), user, "1")
			recs[i] = p.HMGet(ctx, k.ServerRecord(name), recordFields...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim servers for %s: %w", user, err)
	}
	if len(names) == 0 {
		return nil, nil
	}
	states := make([]ServerState, len(names))
	var recent []int
	for i, name := range names {
		states[i] = ServerState{Record: parseRecord(name, recs[i].Val())}
		if states[i].AccessVersion > 0 && states[i].AccessChangedAtMs >= accessSince {
			recent = append(recent, i)
		}
	}
	if len(recent) == 0 {
		return states, nil
	}
	allowed := make([]*redis.BoolCmd, len(recent))
	_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for j, i := range recent {
			allowed[j] = p.SIsMember(ctx, k.ServerAllowed(names[i]), user)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim servers for %s: %w", user, err)
	}
	for j, i := range recent {
		states[i].Allowed = allowed[j].Val()
	}
	return states, nil
}

// Adoption is a value a login load gives a server whose record has none, or
// whose MongoDB config is newer than any event brought (see lua/adopt_value.lua).
type Adoption struct {
	Server string
	// Rev is the record revision the load read; the write happens only if
	// the record still has it.
	Rev         int64
	Config      json.RawMessage
	DBID        string
	UpdatedAtMs int64
}

// AdoptValues writes the adoptions, each only if its record is unchanged
// since the load read it. One pipelined round trip (none when empty).
func (r *Registry) AdoptValues(ctx context.Context, adoptions []Adoption) error {
	if len(adoptions) == 0 {
		return nil
	}
	k := r.keys
	values := make([][]byte, len(adoptions))
	for i, a := range adoptions {
		v, err := Value(a.Config, a.DBID, a.UpdatedAtMs)
		if err != nil {
			return fmt.Errorf("value of %s: %w", a.Server, err)
		}
		values[i] = v
	}
	run := func() error {
		_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, a := range adoptions {
				adoptValueScript.EvalSha(ctx, p, []string{k.ServerRecord(a.Server), k.ServerValue(a.Server), k.ServerFeed(a.Server)},
					strconv.FormatInt(a.Rev, 10), string(a.Config), values[i], a.DBID, a.UpdatedAtMs, a.Server)
			}
			return nil
		})
		return err
	}
	err := run()
	if err != nil && isNoScript(err) {
		if err = loadScript(ctx, r.rdb, adoptValueScript); err == nil {
			err = run()
		}
	}
	if err != nil {
		return fmt.Errorf("adopt server values: %w", err)
	}
	return nil
}

// ForgetHolders takes users out of a server's holder index, all at once (one
// pipelined round trip). For users the allowed set holds: what they hold is
// covered by it (a later removal puts them in the revoke set), so the index
// need not remember them. Call it under the server lock, which keeps the
// allowed set still.
func (r *Registry) ForgetHolders(ctx context.Context, server string, users []string) error {
	if len(users) == 0 {
		return nil
	}
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, u := range users {
			p.HDel(ctx, r.keys.ServerHolders(server, HolderBucket(u)), u)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("forget holders of %s: %w", server, err)
	}
	return nil
}

// ReleaseClaims takes user out of the holder index of servers a login
// claimed but left out of its snapshot (public, deleted, or revoked during
// the load). Safe at any time: the user can come to hold such a server only
// through a grant from its allowed set, which a later revoke finds through
// the revoke set, never through the holder index. One pipelined round trip
// (none when leftOut is empty).
func (r *Registry) ReleaseClaims(ctx context.Context, user string, leftOut []string) error {
	if len(leftOut) == 0 {
		return nil
	}
	bucket := HolderBucket(user)
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, name := range leftOut {
			p.HDel(ctx, r.keys.ServerHolders(name, bucket), user)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release claims of %s: %w", user, err)
	}
	return nil
}
