package registry

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// LoadMode says what a load expects of the user's state.
type LoadMode string

// The load modes of begin_load.lua.
const (
	// ModeLogin loads a user who is not loaded.
	ModeLogin LoadMode = "login"
	// ModeRefresh re-derives a loaded user; readers keep the old snapshot
	// until the commit swaps the new one in (never "not loaded" between).
	ModeRefresh LoadMode = "refresh"
)

// BeginLoad marks user as loading under the lock token (fenced). It returns
// began false when there is nothing to load (login: the user is loaded;
// refresh: the user is not): nothing was written. Otherwise startedAtMs is
// Redis's clock at that moment.
func (r *Registry) BeginLoad(ctx context.Context, user, token string, mode LoadMode) (began bool, startedAtMs int64, err error) {
	k := r.keys
	res, err := beginLoadScript.Run(ctx, r.rdb,
		[]string{k.UserMembers(user), k.UserPending(user), k.UserLock(user)},
		token, r.cfg.PendingTTL.Milliseconds(), string(mode)).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("begin load of %s: %w", user, err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("begin load of %s: unexpected reply %v", user, res)
	}
	switch res[0] {
	case 1:
		return true, res[1], nil
	case 0:
		return false, 0, nil
	default:
		return false, 0, fmt.Errorf("begin load of %s: %w", user, ErrFenced)
	}
}

// Entry is one server of a login snapshot: a membership.
type Entry struct {
	Name string
	// Rev is the server record's revision the load read (0: no record). A
	// change recorded during the load replaces the entry only if newer.
	Rev int64
	// ConsumeOnly says the user reaches the server only through an agent
	// (LibreChat's consumeOnly); readers show it in the user's value.
	ConsumeOnly bool
}

// CommitLoad replaces user's membership with entries (qualified server
// names), applies the changes recorded during the load, notes the user's
// tenant ("" default) and marks the user loaded, all in one atomic step fenced
// by the lock token. It returns the number of servers the user holds,
// ErrFenced or ErrSuperseded. Under WithAudit a refresh (the user was loaded)
// records each server whose state changed in the user's audit outbox, in the
// same script, and the outbox is drained before it returns.
func (r *Registry) CommitLoad(ctx context.Context, user, token, tenant string, entries []Entry) (int, error) {
	k := r.keys
	cause, outboxTTL := auditArgs(ctx)
	args := make([]any, 0, 7+3*len(entries))
	args = append(args, token, r.cfg.CacheTTL.Milliseconds(), strconv.FormatInt(time.Now().UnixMilli(), 10), user, tenant,
		cause, outboxTTL)
	for _, e := range entries {
		consume := ""
		if e.ConsumeOnly {
			consume = "c"
		}
		args = append(args, e.Name, e.Rev, consume)
	}
	reply, err := commitLoadScript.Run(ctx, r.rdb,
		[]string{k.UserMembers(user), k.UserPending(user), k.UserLock(user), k.UserFeed(user), k.UserAudit(user)},
		args...).Int64Slice()
	if err != nil {
		return 0, fmt.Errorf("commit load of %s: %w", user, err)
	}
	if len(reply) != 2 {
		return 0, fmt.Errorf("commit load of %s: unexpected reply %v", user, reply)
	}
	switch reply[0] {
	case -1:
		return 0, fmt.Errorf("commit load of %s: %w", user, ErrFenced)
	case -2:
		return 0, fmt.Errorf("commit load of %s: %w", user, ErrSuperseded)
	}
	// A failed drain is put off (AuditFailed), as in ApplyToUsers: the swap
	// is made, and a flow refreshing several users (a group change) must
	// refresh the others, removed members included, before it fails.
	if reply[1] > 0 && AuditFailed(ctx) == nil {
		if err := r.drainAudit(ctx, []string{k.UserAudit(user)}); err != nil {
			putOffAudit(ctx, fmt.Errorf("commit load of %s: %w", user, err))
		}
	}
	return int(reply[0]), nil
}

// Invalidate forgets user's cached registry: membership, loaded mark and any
// load in progress (whose commit will then be refused, so it reloads), and
// announces it on the user's feed. One script in the user's slot.
func (r *Registry) Invalidate(ctx context.Context, user string) error {
	k := r.keys
	err := invalidateScript.Run(ctx, r.rdb, []string{k.UserMembers(user), k.UserPending(user), k.UserFeed(user)}, user).Err()
	if err != nil {
		return fmt.Errorf("invalidate %s: %w", user, err)
	}
	return nil
}
