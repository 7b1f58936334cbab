package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/serverdb"
	"github.com/mcp-registry/worker/reader/layout"
)

// DefaultLoginRetryDelay is how soon a login that found the user's load in
// progress elsewhere is looked at again.
const DefaultLoginRetryDelay = 150 * time.Millisecond

// Login handles user.login: it loads the user's private registry from
// MongoDB unless it is loaded already. Concurrent logins of one user coalesce:
// one holds the user's lock and reads MongoDB once; the others are handed back
// for a short delay and, on their next delivery, find the flag set.
type Login struct{ userFlow }

// userFlow is what the flows that load a user's snapshot (Login, Refresh)
// work with: the registry, the user locks, the source of the user's servers,
// and the busy retry delay while another worker loads the same user.
type userFlow struct {
	reg        *registry.Registry
	locks      *lockstatus.Locker
	source     ServerSource
	retryDelay time.Duration
}

// newUserFlow returns a userFlow; retryDelay 0 means DefaultLoginRetryDelay.
func newUserFlow(reg *registry.Registry, locks *lockstatus.Locker, source ServerSource, retryDelay time.Duration) userFlow {
	if retryDelay <= 0 {
		retryDelay = DefaultLoginRetryDelay
	}
	return userFlow{reg: reg, locks: locks, source: source, retryDelay: retryDelay}
}

var _ events.Handler = (*Login)(nil)

// NewLogin returns the login flow. retryDelay 0 means DefaultLoginRetryDelay.
func NewLogin(reg *registry.Registry, locks *lockstatus.Locker, source ServerSource, retryDelay time.Duration) *Login {
	return &Login{newUserFlow(reg, locks, source, retryDelay)}
}

// Handle loads ev.UserID's registry. A warm login costs one Redis round trip.
func (h *Login) Handle(ctx context.Context, ev events.Event) error {
	user := ev.UserID
	loaded, err := h.reg.Loaded(ctx, user)
	if err != nil {
		return fmt.Errorf("login %s: %w", user, err)
	}
	if loaded {
		return nil
	}
	err = h.locks.TryWithLock(ctx, h.reg.Keys().UserLock(user), func(ctx context.Context, f lockstatus.Fence) error {
		return loadUser(ctx, h.reg, h.source, user, f.Token, registry.ModeLogin)
	})
	if errors.Is(err, lockstatus.ErrLocked) {
		return events.Busy(h.retryDelay, "login load of this user in progress elsewhere")
	}
	if err != nil {
		return fmt.Errorf("login %s: %w", user, err)
	}
	return nil
}

// loadUser runs under the user's lock (token): mark loading, read MongoDB,
// claim the servers in the holder index and read their records, give servers
// their value where the record has none (or an older one), commit the
// membership (a login: into a user not loaded; a refresh: swapped for the
// loaded user's current one in one step), release the claims left out.
func loadUser(ctx context.Context, reg *registry.Registry, source ServerSource, user, token string, mode registry.LoadMode) error {
	began, startedAt, err := reg.BeginLoad(ctx, user, token, mode)
	if err != nil || !began {
		return err // !began: nothing to do (loaded meanwhile, or no longer loaded)
	}
	servers, err := source.AccessibleServers(ctx, user)
	if err != nil {
		return err
	}
	tenant, err := userTenant(ctx, source, user, servers)
	if err != nil {
		return err
	}
	servers = qualified(withValidNames(servers))
	names := make([]string, len(servers))
	for i, s := range servers {
		names[i] = s.Name
	}
	states, err := reg.ClaimServers(ctx, user, names, accessSince(startedAt))
	if err != nil {
		return err
	}
	entries, adoptions := snapshot(servers, states, startedAt)
	if err := reg.AdoptValues(ctx, adoptions); err != nil {
		return err
	}
	if _, err = reg.CommitLoad(ctx, user, token, tenant, entries); err != nil {
		return err
	}
	return reg.ReleaseClaims(ctx, user, leftOut(names, entries))
}

// userTenant is the user's tenant: the one of the servers MongoDB returned
// (all of the user's tenant), else, for a user with none, the source's
// answer when it can tell (a user whose tenantId is unusable gets a tenant no
// tier has: such a user sees nothing).
func userTenant(ctx context.Context, source ServerSource, user string, servers []serverdb.Server) (string, error) {
	if len(servers) > 0 {
		return servers[0].Tenant, nil
	}
	ts, ok := source.(TenantSource)
	if !ok {
		return "", nil
	}
	t, err := ts.UserTenant(ctx, user)
	if errors.Is(err, serverdb.ErrNoTenant) {
		return noTenant, nil
	}
	return t, err
}

// noTenant is the tenant of a user whose tenantId is unusable: reserved (a
// NUL byte), so it matches no server's tenant.
const noTenant = "\x00"

// qualified renames each server to its registry name in its tenant
// (layout.Qualify), so two tenants' servers of one name stay apart in Redis.
func qualified(servers []serverdb.Server) []serverdb.Server {
	for i := range servers {
		servers[i].Name = layout.Qualify(servers[i].Tenant, servers[i].Name)
	}
	return servers
}

// leftOut returns the names no entry holds (entries keep the names' order).
func leftOut(names []string, entries []registry.Entry) []string {
	var out []string
	j := 0
	for _, n := range names {
		if j < len(entries) && entries[j].Name == n {
			j++
			continue
		}
		out = append(out, n)
	}
	return out
}
