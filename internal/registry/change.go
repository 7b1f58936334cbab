package registry

import (
	"context"
	"encoding/json"
	"fmt"
)

// Aspects is a mask of the parts of a server record a change touched.
type Aspects int64

// The aspects of a server record, each with its own version.
const (
	AspectConfig Aspects = 1 << iota
	AspectAccess
	AspectScope
)

// Has reports whether a includes all of b.
func (a Aspects) Has(b Aspects) bool { return a&b == b }

// Change is what one server event says about the server. Empty fields are
// aspects the event does not carry.
type Change struct {
	Server  string
	Version int64
	Config  json.RawMessage // nil: no config
	Scope   Scope           // "": no scope
	// SetsAccess says Allowed is the new complete allowed set (empty: nobody).
	SetsAccess bool
	Allowed    []string
}

// ApplyResult is the outcome of ApplyChange.
type ApplyResult struct {
	// Pending is the aspects whose change must now reach the registries: this
	// change's newer aspects and any left unfinished by an earlier attempt.
	// Zero means nothing to do (a duplicate or stale event).
	Pending Aspects
	// Record is the record after the change.
	Record Record
}

// ApplyChange applies c to the server's record under the server lock token
// (fenced), aspect by aspect, keeping only what is newer, and returns the
// record after the change. One round trip.
func (r *Registry) ApplyChange(ctx context.Context, token string, c Change) (ApplyResult, error) {
	k := r.keys
	args := make([]any, 0, 5+len(c.Allowed))
	access := "0"
	if c.SetsAccess {
		access = "1"
	}
	args = append(args, token, c.Version, string(c.Config), string(c.Scope), access)
	for _, u := range c.Allowed {
		args = append(args, u)
	}
	res, err := applyRecordScript.Run(ctx, r.rdb,
		[]string{k.ServerRecord(c.Server), k.ServerAllowed(c.Server), k.ServerLock(c.Server)}, args...).Slice()
	if err != nil {
		return ApplyResult{}, fmt.Errorf("apply change to %s: %w", c.Server, err)
	}
	mask, _ := res[0].(int64)
	if len(res) != 2 || mask < 0 {
		return ApplyResult{}, fmt.Errorf("apply change to %s: %w", c.Server, ErrFenced)
	}
	flat, _ := res[1].([]any)
	fields := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		name, _ := flat[i].(string)
		fields[name], _ = flat[i+1].(string)
	}
	return ApplyResult{Pending: Aspects(mask), Record: recordFromMap(c.Server, fields)}, nil
}

// FinishFanout records that every registry reflects the server's record now
// (clearing the unfinished mask) and the tier it is in ("" for none). Fenced.
func (r *Registry) FinishFanout(ctx context.Context, token, server string, tier Tier) error {
	k := r.keys
	res, err := finishFanoutScript.Run(ctx, r.rdb, []string{k.ServerRecord(server), k.ServerLock(server)},
		token, string(tier)).Int()
	if err != nil {
		return fmt.Errorf("finish fan-out of %s: %w", server, err)
	}
	if res != 1 {
		return fmt.Errorf("finish fan-out of %s: %w", server, ErrFenced)
	}
	return nil
}

// MarkFanout flags aspects of the server's record as not yet reflected
// everywhere (see lua/mark_fanout.lua): the next event of the server, or this
// one's redelivery, redoes the fan-out. One round trip; not fenced.
func (r *Registry) MarkFanout(ctx context.Context, server string, pending Aspects) error {
	if err := markFanoutScript.Run(ctx, r.rdb, []string{r.keys.ServerRecord(server)}, int64(pending)).Err(); err != nil {
		return fmt.Errorf("mark fan-out of %s: %w", server, err)
	}
	return nil
}

// PutTier puts the server in tier t with value (t "" removes it from every
// tier), unless a newer change was applied already. One round trip.
func (r *Registry) PutTier(ctx context.Context, server string, t Tier, value []byte, rev int64) error {
	k := r.keys
	err := putTierScript.Run(ctx, r.rdb, []string{k.Tier(TierApp), k.Tier(TierUser), k.TierRevs()},
		server, string(t), value, rev).Err()
	if err != nil {
		return fmt.Errorf("put %s in tier %q: %w", server, t, err)
	}
	return nil
}
