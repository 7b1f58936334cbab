package handlers_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
