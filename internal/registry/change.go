package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
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
	// Staged says the new complete allowed set is the one the caller staged
	// with StageAllowed under the same lock token (Allowed is ignored).
	Staged bool
	// UpdatedAtMs is the config's change time the event carries (0: none,
	// then the time the change is applied).
	UpdatedAtMs int64
	// DBID is the server's MongoDB id the event carries ("" when none).
	DBID string
}

// ApplyResult is the outcome of ApplyChange.
type ApplyResult struct {
	// Pending is the aspects whose change must now reach the registries: this
	// change's newer aspects and any left unfinished by an earlier attempt.
	// Zero means nothing to do (a duplicate or stale event).
	Pending Aspects
	// Unfinished is the mask an earlier, failed attempt left (0 normally).
	Unfinished Aspects
	// Diffed says Added is exactly what the allowed set gained from a known
	// earlier set; when false a grant must walk the whole allowed set.
	Diffed bool
	// Added is the users the allowed set gained (when Diffed).
	Added []string
	// Record is the record after the change.
	Record Record
}

// ApplyChange applies c to the server's record under the server lock token
// (fenced), aspect by aspect, keeping only what is newer, and returns the
// record after the change. Users the allowed set lost go to the revoke set.
// One round trip. Under WithAudit a delete is recorded (for every user) in
// the server's audit outbox by the same script, drained before it returns (a
// drain that fails is put off: AuditFailed).
func (r *Registry) ApplyChange(ctx context.Context, token string, c Change) (ApplyResult, error) {
	k := r.keys
	access, updated, scratch := "0", "", k.ServerAllowedNext(c.Server)
	switch {
	case c.Staged:
		access, scratch = "2", k.ServerAllowedStaged(c.Server, token)
	case c.SetsAccess:
		access = "1"
	}
	if c.UpdatedAtMs > 0 {
		updated = strconv.FormatInt(c.UpdatedAtMs, 10)
	}
	cause, outboxTTL := auditArgs(ctx)
	args := make([]any, 0, 10+len(c.Allowed))
	args = append(args, token, versionArg(c.Version), string(c.Config), string(c.Scope), access, updated, c.DBID, c.Server,
		cause, outboxTTL)
	for _, u := range c.Allowed {
		args = append(args, u)
	}
	res, err := applyRecordScript.Run(ctx, r.rdb,
		[]string{
			k.ServerRecord(c.Server), k.ServerAllowed(c.Server), k.ServerLock(c.Server),
			scratch, k.ServerRevoke(c.Server), k.ServerValue(c.Server), k.ServerFeed(c.Server), k.ServerAudit(c.Server),
		}, args...).Slice()
	if err != nil {
		return ApplyResult{}, fmt.Errorf("apply change to %s: %w", c.Server, err)
	}
	if len(res) != 6 {
		return ApplyResult{}, fmt.Errorf("apply change to %s: unexpected reply of %d elements", c.Server, len(res))
	}
	mask, _ := res[0].(int64)
	if mask < 0 {
		return ApplyResult{}, fmt.Errorf("apply change to %s: %w", c.Server, ErrFenced)
	}
	// A failed drain is put off (AuditFailed), as in ApplyToUsers: the
	// change is made, and the flow must fan it out (a revoke must not wait
	// for the audit stream) before it fails for the records.
	if outbox, _ := res[5].(int64); outbox > 0 && AuditFailed(ctx) == nil {
		if err := r.drainAudit(ctx, []string{k.ServerAudit(c.Server)}); err != nil {
			putOffAudit(ctx, fmt.Errorf("apply change to %s: %w", c.Server, err))
		}
	}
	before, _ := res[2].(int64)
	diffed, _ := res[3].(int64)
	return ApplyResult{
		Pending: Aspects(mask), Unfinished: Aspects(before), Diffed: diffed == 1,
		Added: stringList(res[4]), Record: recordFromMap(c.Server, pairs(res[1])),
	}, nil
}

// StageAllowed adds users to the allowed set a flow holding the server lock
// with token is building (first: start it empty), for ApplyChange with
// Staged; it expires after the pending TTL if the flow dies. One round trip.
func (r *Registry) StageAllowed(ctx context.Context, server, token string, users []string, first bool) error {
	key := r.keys.ServerAllowedStaged(server, token)
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if first {
			p.Del(ctx, key)
		}
		if len(users) > 0 {
			p.SAdd(ctx, key, toAny(users)...)
		}
		p.PExpire(ctx, key, r.cfg.PendingTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("stage allowed set of %s: %w", server, err)
	}
	return nil
}

// PutValue writes the server's value built from rec (and notes dbID in the
// record when not ""), fenced by the server lock token. A deleted server gets
// no value. When a login changed the record's config meanwhile (adopt_value
// runs without the server lock), it rebuilds the value from the record as it
// is now and tries again. One round trip, rarely a few.
func (r *Registry) PutValue(ctx context.Context, token string, rec Record, dbID string) error {
	k := r.keys
	for range 5 {
		built := string(rec.Config) + "\n" + rec.DBID + "\n" + recordMs(rec)
		if dbID != "" {
			rec.DBID = dbID
		}
		value, err := rec.Value()
		if err != nil {
			return fmt.Errorf("value of %s: %w", rec.Name, err)
		}
		n, err := putValueScript.Run(ctx, r.rdb,
			[]string{k.ServerRecord(rec.Name), k.ServerValue(rec.Name), k.ServerLock(rec.Name), k.ServerFeed(rec.Name)},
			token, value, dbID, rec.Name, built).Int()
		if err != nil {
			return fmt.Errorf("put value of %s: %w", rec.Name, err)
		}
		switch {
		case n < 0:
			return fmt.Errorf("put value of %s: %w", rec.Name, ErrFenced)
		case n != 2:
			return nil
		}
		if rec, err = r.Record(ctx, rec.Name); err != nil {
			return err
		}
	}
	return fmt.Errorf("put value of %s: the record kept changing under concurrent logins", rec.Name)
}

// recordMs renders the record's updatedAt as the record hash holds it ("" when unset).
func recordMs(rec Record) string {
	if rec.UpdatedAtMs == 0 {
		return ""
	}
	return strconv.FormatInt(rec.UpdatedAtMs, 10)
}

// FinishFanout records that every registry reflects the server's record now
// (clearing the unfinished mask), the tier it is in ("" for none), and drops
// the revoke set when drained says the fan-out walked it. Fenced.
func (r *Registry) FinishFanout(ctx context.Context, token, server string, tier Tier, drained bool) error {
	k := r.keys
	drop := "0"
	if drained {
		drop = "1"
	}
	res, err := finishFanoutScript.Run(ctx, r.rdb,
		[]string{k.ServerRecord(server), k.ServerLock(server), k.ServerRevoke(server)},
		token, string(tier), drop, r.cfg.PendingTTL.Milliseconds()).Int()
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

// PutTier puts the server in tier t (t "" removes it from every tier),
// unless a newer change was applied already. One round trip. Under WithAudit
// a change of tier is recorded (for every user) in the shared audit outbox by
// the same script, drained before it returns (a drain that fails is put
// off: AuditFailed).
func (r *Registry) PutTier(ctx context.Context, server string, t Tier, rev int64) error {
	return r.putTier(ctx, server, t, rev, true)
}

// RemoveDeletedFromTiers takes a deleted server out of every tier without an
// audit entry of its own: apply_record recorded the delete.
func (r *Registry) RemoveDeletedFromTiers(ctx context.Context, server string, rev int64) error {
	return r.putTier(ctx, server, "", rev, false)
}

func (r *Registry) putTier(ctx context.Context, server string, t Tier, rev int64, audited bool) error {
	k := r.keys
	cause, outboxTTL := auditArgs(ctx)
	if !audited {
		cause = ""
	}
	reply, err := putTierScript.Run(ctx, r.rdb,
		[]string{k.Tier(TierApp), k.Tier(TierUser), k.TierRevs(), k.SharedFeed(), k.SharedAudit()},
		server, string(t), rev, cause, outboxTTL).Int64Slice()
	if err != nil {
		return fmt.Errorf("put %s in tier %q: %w", server, t, err)
	}
	// A failed drain is put off (AuditFailed), as in ApplyToUsers: a
	// demote's revoke follows and must not wait for the audit stream.
	if len(reply) == 2 && reply[1] > 0 && AuditFailed(ctx) == nil {
		if err := r.drainAudit(ctx, []string{k.SharedAudit()}); err != nil {
			putOffAudit(ctx, fmt.Errorf("put %s in tier %q: %w", server, t, err))
		}
	}
	return nil
}

// SettleServerTTL gives, after a scope change, a deleted server's keys the
// tombstone TTL (Config.TombstoneTTL; 0 keeps them forever) or removes it
// from a server that is not deleted. Fenced; one round trip.
func (r *Registry) SettleServerTTL(ctx context.Context, token, server string) error {
	if r.cfg.TombstoneTTL <= 0 {
		return nil
	}
	k := r.keys
	keys := make([]string, 0, 4+HolderBuckets)
	keys = append(keys, k.ServerRecord(server), k.ServerLock(server), k.ServerAllowed(server), k.ServerRevoke(server))
	for b := range HolderBuckets {
		keys = append(keys, k.ServerHolders(server, b))
	}
	n, err := settleTTLScript.Run(ctx, r.rdb, keys, token, r.cfg.TombstoneTTL.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("settle ttl of %s: %w", server, err)
	}
	if n < 0 {
		return fmt.Errorf("settle ttl of %s: %w", server, ErrFenced)
	}
	return nil
}

// pairs turns a flat [field, value, ...] reply into a map.
func pairs(v any) map[string]string {
	flat, _ := v.([]any)
	m := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		name, _ := flat[i].(string)
		m[name], _ = flat[i+1].(string)
	}
	return m
}

// stringList turns an array reply of strings into a slice.
func stringList(v any) []string {
	flat, _ := v.([]any)
	out := make([]string, 0, len(flat))
	for _, e := range flat {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
