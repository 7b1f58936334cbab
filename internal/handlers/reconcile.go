package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/reader/layout"
)

// Reconciler re-derives loaded users' registries from MongoDB (the source of
// truth) and repairs those a lost or misordered event left wrong. It walks
// the index of loaded users (no SCAN), compares each user's membership with
// what MongoDB and the server records say without writing anything, and
// refreshes (under the user's lock, swapped in one step) only users that
// differ. Safe on every replica at once: a refresh is idempotent.
type Reconciler struct {
	reg     *registry.Registry
	locks   *lockstatus.Locker
	source  ServerSource
	auditor Auditor
}

// WithAuditor makes the repairs' changes recorded on the audit trail (kind
// refresh, subject "reconcile"); it returns r.
func (r *Reconciler) WithAuditor(a Auditor) *Reconciler {
	r.auditor = a
	return r
}

// NewReconciler returns a Reconciler.
func NewReconciler(reg *registry.Registry, locks *lockstatus.Locker, source ServerSource) *Reconciler {
	return &Reconciler{reg: reg, locks: locks, source: source}
}

// Repair is what a reconcile pass changed for one user (server names as the
// user sees them).
type Repair struct {
	UserID  string   `json:"userId"`
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
}

// Options bound a pass: MaxUsers (0: all) and Rate, users checked per second
// (0: unbounded).
type Options struct {
	MaxUsers int
	Rate     float64
}

// reconcileSubject is the audit records' subject of a reconcile repair.
const reconcileSubject = "reconcile"

// ErrEnough ends a pass early once Options.MaxUsers users are checked.
var errEnough = errors.New("enough users checked")

// Pass checks the loaded users once, reporting each repair, and returns how
// many it checked and repaired.
func (r *Reconciler) Pass(ctx context.Context, opts Options, report func(Repair)) (checked, repaired int, err error) {
	var gap time.Duration
	if opts.Rate > 0 {
		gap = time.Duration(float64(time.Second) / opts.Rate)
	}
	err = r.reg.EachLoaded(ctx, func(users []string) error {
		for _, u := range users {
			if opts.MaxUsers > 0 && checked >= opts.MaxUsers {
				return errEnough
			}
			checked++
			rep, differs, err := r.check(ctx, u)
			if err != nil {
				return err
			}
			if differs {
				ctx := withAudit(ctx, r.auditor, events.Event{Subject: reconcileSubject})
				err := refreshUser(ctx, r.reg, r.locks, r.source, u)
				if err == nil {
					err = registry.AuditFailed(ctx) // the record waits in the outbox
				}
				if err != nil && !errors.Is(err, lockstatus.ErrLocked) { // locked: a load runs now anyway
					return err
				}
				repaired++
				report(rep)
			}
			if gap > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(gap):
				}
			}
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	return checked, repaired, err
}

// check compares user's membership with what a load would commit now.
func (r *Reconciler) check(ctx context.Context, user string) (Repair, bool, error) {
	current, loaded, err := r.reg.Members(ctx, user)
	if err != nil || !loaded {
		return Repair{}, false, err
	}
	servers, err := r.source.AccessibleServers(ctx, user)
	if err != nil {
		return Repair{}, false, fmt.Errorf("reconcile %s: %w", user, err)
	}
	servers = qualified(withValidNames(servers))
	names := make([]string, len(servers))
	for i, s := range servers {
		names[i] = s.Name
	}
	now := time.Now().UnixMilli()
	states, err := r.reg.ReadServers(ctx, user, names, accessSince(now))
	if err != nil {
		return Repair{}, false, err
	}
	entries, _ := snapshot(servers, states, now)
	rep := Repair{UserID: user, Added: []string{}, Removed: []string{}}
	want := map[string]bool{}
	for _, e := range entries {
		want[e.Name] = e.ConsumeOnly
		if consume, ok := current[e.Name]; !ok || consume != e.ConsumeOnly {
			rep.Added = append(rep.Added, plain(e.Name))
		}
	}
	var extra []string
	for name := range current {
		if _, ok := want[name]; !ok {
			extra = append(extra, name)
		}
	}
	// A membership of a server now public or deleted is invisible (shadowed
	// by the tier, or without a value), and one the server's allowed set
	// grants comes from an event MongoDB's ACL may not show yet: neither is
	// a difference.
	extraStates, err := r.reg.ReadServers(ctx, user, extra, 0)
	if err != nil {
		return Repair{}, false, err
	}
	for i, name := range extra {
		st := extraStates[i]
		invisible := st.Scope == registry.ScopePublic || st.Scope == registry.ScopeDeleted
		grantedByEvent := st.AccessVersion > 0 && st.Allowed
		if !invisible && !grantedByEvent {
			rep.Removed = append(rep.Removed, plain(name))
		}
	}
	slices.Sort(rep.Added)
	slices.Sort(rep.Removed)
	return rep, len(rep.Added)+len(rep.Removed) > 0, nil
}

func plain(qualified string) string {
	_, name := layout.Unqualify(qualified)
	return name
}
