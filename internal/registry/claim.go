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

// ClaimServers adds user to the reverse index of every claimed server, notes
// the server's MongoDB id in its record, and then reads the record and the
// user's membership of its allowed set: one pipelined round trip. The order
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
			if c.DBID != "" {
				p.HSet(ctx, k.ServerRecord(c.Name), fieldDBID, c.DBID)
			}
			recs[i] = p.HMGet(ctx, k.ServerRecord(c.Name), recordFields...)
			allowed[i] = p.SIsMember(ctx, k.ServerAllowed(c.Name), user)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim servers for %s: %w", user, err)
	}
	states := make([]ServerState, len(claims))
	for i, c := range claims {
		states[i] = ServerState{Record: parseRecord(c.Name, recs[i].Val()), Allowed: allowed[i].Val()}
	}
	return states, nil
}
