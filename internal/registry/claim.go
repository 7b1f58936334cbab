package registry

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// ServerState is what a login load needs to know about one server it read
// from MongoDB: the server's record, and whether the user is in its allowed set.
type ServerState struct {
	Record
	// Allowed reports whether the user is in the record's allowed set
	// (meaningful when Record.AccessVersion > 0).
	Allowed bool
}

// Claim is one server a login load is about to cache.
type Claim struct {
	Name string
	DBID string
}

// ClaimServers adds user to the reverse index of every claimed server, then
// reads the record and the user's membership of its allowed set: one
// pipelined round trip (plus one, only when a record does not know the
// server's MongoDB id yet, to note it there). The order
// matters (DESIGN "login versus revoke"): a change whose record update comes
// before this read is seen here; one that comes after walks the reverse index
// and finds the user.
func (r *Registry) ClaimServers(ctx context.Context, user string, claims []Claim) ([]ServerState, error) {
	if len(claims) == 0 {
		return nil, nil
	}
	k := r.keys
	recs := make([]*redis.SliceCmd, len(claims))
	allowed := make([]*redis.BoolCmd, len(claims))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range claims {
			p.SAdd(ctx, k.ServerCachedBy(c.Name), user)
			recs[i] = p.HMGet(ctx, k.ServerRecord(c.Name), recordFields...)
			allowed[i] = p.SIsMember(ctx, k.ServerAllowed(c.Name), user)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim servers for %s: %w", user, err)
	}
	states := make([]ServerState, len(claims))
	var unknownIDs []Claim
	for i, c := range claims {
		states[i] = ServerState{Record: parseRecord(c.Name, recs[i].Val()), Allowed: allowed[i].Val()}
		if c.DBID != "" && states[i].DBID != c.DBID {
			unknownIDs = append(unknownIDs, c)
			states[i].DBID = c.DBID // noted below
		}
	}
	if err := r.noteDBIDs(ctx, unknownIDs); err != nil {
		return nil, err
	}
	return states, nil
}

// noteDBIDs records servers' MongoDB ids in their records, so that values
// written by server events carry dbId too.
func (r *Registry) noteDBIDs(ctx context.Context, claims []Claim) error {
	if len(claims) == 0 {
		return nil
	}
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, c := range claims {
			p.HSet(ctx, r.keys.ServerRecord(c.Name), fieldDBID, c.DBID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("note MongoDB ids: %w", err)
	}
	return nil
}
