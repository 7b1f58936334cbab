package registry

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// BeginLoad marks user as loading under the lock token (fenced). It returns
// began false when the user is already loaded: nothing was written and there
// is nothing to load. Otherwise startedAtMs is Redis's clock at that moment.
func (r *Registry) BeginLoad(ctx context.Context, user, token string) (began bool, startedAtMs int64, err error) {
	k := r.keys
	res, err := beginLoadScript.Run(ctx, r.rdb,
		[]string{k.UserLoaded(user), k.UserPending(user), k.UserLock(user)},
		token, r.cfg.PendingTTL.Milliseconds()).Int64Slice()
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

// Entry is one server of a login snapshot.
type Entry struct {
	Name  string
	Value []byte
	// Rev is the server record's revision the value reflects (0: no record).
	// A change recorded during the load replaces the entry only if newer.
	Rev int64
}

// CommitLoad replaces user's private registry with entries, applies the
// changes recorded during the load, and sets the loaded flag, all in one
// atomic step fenced by the lock token. It returns the number of servers
// committed, ErrFenced or ErrSuperseded.
func (r *Registry) CommitLoad(ctx context.Context, user, token string, entries []Entry) (int, error) {
	k := r.keys
	args := make([]any, 0, 3+3*len(entries))
	ttl := r.cfg.CacheTTL.Milliseconds()
	args = append(args, token, ttl, strconv.FormatInt(time.Now().UnixMilli(), 10))
	for _, e := range entries {
		args = append(args, e.Name, e.Value, e.Rev)
	}
	n, err := commitLoadScript.Run(ctx, r.rdb,
		[]string{k.UserRegistry(user), k.UserLoaded(user), k.UserPending(user), k.UserLock(user), k.UserRevs(user)},
		args...).Int()
	if err != nil {
		return 0, fmt.Errorf("commit load of %s: %w", user, err)
	}
	switch n {
	case -1:
		return 0, fmt.Errorf("commit load of %s: %w", user, ErrFenced)
	case -2:
		return 0, fmt.Errorf("commit load of %s: %w", user, ErrSuperseded)
	}
	return n, nil
}

// Invalidate forgets user's cached registry: registry, flag and any load in
// progress (whose commit will then be refused, so it reloads). One DEL of
// keys in one hash slot.
func (r *Registry) Invalidate(ctx context.Context, user string) error {
	k := r.keys
	if err := r.rdb.Del(ctx, k.UserRegistry(user), k.UserLoaded(user), k.UserPending(user), k.UserRevs(user)).Err(); err != nil {
		return fmt.Errorf("invalidate %s: %w", user, err)
	}
	return nil
}
