package handlers_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
)

// user.refresh re-derives a loaded user from MongoDB and swaps the snapshot:
// a reader polling throughout never sees the user unloaded; a change applied
// during the refresh survives the swap; a user not loaded is left alone.
func TestIntegrationRefreshSwapsWithoutGap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("", "USER", "")
	e.grantUser(e.server("s1", map[string]any{"url": "https://s1"}, time.UnixMilli(1)), u)
	require.NoError(t, e.login(u))
	assert.Equal(t, []string{"s1"}, e.privateNames(u))

	// The user's group gains s2 in MongoDB (no server event); meanwhile an
	// access event grants s3 while the refresh reads MongoDB.
	e.grantUser(e.server("s2", map[string]any{"url": "https://s2"}, time.UnixMilli(1)), u)
	w := e.mainWorld()
	e.source.hook(func(context.Context, string) error {
		time.Sleep(50 * time.Millisecond) // widen the window the poller watches
		return w.apply(access("s3", cfg("https://s3"), 1, u))
	}, nil)
	var sawUnloaded atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if ok, err := e.reg.Loaded(context.Background(), u); err == nil && !ok {
				sawUnloaded.Store(true)
			}
		}
	})
	require.NoError(t, e.handle(events.KindUserRefresh, events.Event{UserID: u}))
	close(stop)
	wg.Wait()
	assert.False(t, sawUnloaded.Load(), "never seen unloaded during the swap")
	assert.Equal(t, []string{"s1", "s2", "s3"}, e.privateNames(u), "MongoDB's new grant, and the event applied during the refresh")

	calls := e.source.calls.Load()
	other := e.user("", "USER", "")
	require.NoError(t, e.handle(events.KindUserRefresh, events.Event{UserID: other}))
	assert.Equal(t, calls, e.source.calls.Load(), "a user not loaded is not read from MongoDB")
	assert.False(t, e.view(other).Loaded, "nor loaded by a refresh")
}

// A refresh drops what MongoDB no longer grants (a group membership removed).
func TestIntegrationRefreshDropsWhatMongoNoLongerGrants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("", "USER", "")
	s := e.server("gone", map[string]any{"url": "https://g"}, time.UnixMilli(1))
	e.grantUser(s, u)
	require.NoError(t, e.login(u))
	require.Equal(t, []string{"gone"}, e.privateNames(u))
	require.NoError(t, e.lc.RevokeAll(e.ctx, s))
	require.NoError(t, e.handle(events.KindUserRefresh, events.Event{UserID: u}))
	assert.Empty(t, e.privateNames(u))
	assert.True(t, e.view(u).Loaded)
}

// group.changed with member lists refreshes exactly the listed loaded users.
func TestIntegrationGroupChangedRefreshesListedMembers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in, out, bystander := e.user("", "USER", ""), e.user("", "USER", ""), e.user("", "USER", "")
	for _, u := range []string{in, out, bystander} {
		require.NoError(t, e.login(u))
	}
	g, err := e.lc.AddGroup(e.ctx, "team", in, bystander) // bystander's entry lands, but no event names them
	require.NoError(t, err)
	require.NoError(t, e.lc.GrantGroup(e.ctx, e.server("team-tool", map[string]any{"url": "https://t"}, time.UnixMilli(1)), g, devstack.PermView))
	calls := e.source.calls.Load()
	require.NoError(t, e.handle(events.KindGroupChanged, events.Event{GroupID: g.Hex(), AddedMemberIDs: []string{in}, RemovedMemberIDs: []string{out}}))
	assert.Equal(t, []string{"team-tool"}, e.privateNames(in))
	assert.Empty(t, e.privateNames(out))
	assert.Empty(t, e.privateNames(bystander), "not named by the event: not refreshed")
	assert.Equal(t, calls+2, e.source.calls.Load(), "one MongoDB read per listed user")
}

// Without allowedUserIds and without a MongoDB to derive them, an access
// event is refused (dead-lettered), never applied as "nobody".
func TestIntegrationDerivedAccessWithoutSourceIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.newWorldWith("w", noServers{})
	w.login("bob")
	w.must(access("s", cfg("https://s"), 1, "bob"))
	ev := access("s", cfg("https://s"), 2)
	ev.AllowedUserIDs, ev.DeriveAccess = nil, true
	err := w.apply(ev)
	require.ErrorIs(t, err, events.ErrPermanent)
	assert.NotNil(t, w.private("bob", "s"), "nothing revoked")
}
