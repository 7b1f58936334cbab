package handlers_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// phase says when, relative to a login's MongoDB read, a step runs.
type phase int

const (
	beforeRead phase = iota // the login has begun (marked loading) but not read MongoDB yet
	afterRead               // the login read MongoDB but has not claimed or committed yet
	afterLogin              // the login has committed
)

func (p phase) String() string { return [...]string{"before read", "after read", "after login"}[p] }

// Hard case 13: a login racing a revoke or a grant ends in the state that
// matches MongoDB and the last event, for every placement of the MongoDB
// change and of the event relative to the login's read.
func TestIntegrationLoginRacingAccessChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.mainWorld()
	for _, grant := range []bool{false, true} {
		for _, mongoAt := range []phase{beforeRead, afterRead} {
			for _, eventAt := range []phase{beforeRead, afterRead, afterLogin} {
				if eventAt < mongoAt {
					continue // publishers send the event after the MongoDB change
				}
				name := fmt.Sprintf("grant=%v mongo %s, event %s", grant, mongoAt, eventAt)
				t.Run(name, func(t *testing.T) {
					server := fmt.Sprintf("s-%v-%d-%d", grant, mongoAt, eventAt)
					u := e.user("", "USER", "")
					uid, _ := bson.ObjectIDFromHex(u)
					sid := e.server(server, map[string]any{"url": "https://" + server}, time.UnixMilli(100))
					other := e.user("", "USER", "")
					e.grantUser(sid, other)
					if !grant {
						e.grantUser(sid, u)
					}
					allowed := []string{other}
					if grant {
						allowed = append(allowed, u)
					}
					changeMongo := func() {
						if grant {
							e.grantUser(sid, u)
						} else {
							require.NoError(t, e.lc.RevokeUser(e.ctx, sid, uid))
						}
					}
					sendEvent := func() { w.must(access(server, cfg("https://"+server), 200, allowed...)) }
					at := func(p phase) {
						if mongoAt == p {
							changeMongo()
						}
						if eventAt == p {
							sendEvent()
						}
					}
					e.source.hook(
						func(context.Context, string) error { at(beforeRead); return nil },
						func(context.Context, string) error { at(afterRead); return nil })
					w.login(u)
					e.source.hook(nil, nil)
					at(afterLogin)

					got := w.private(u, server)
					if grant {
						require.NotNil(t, got, "granted")
						assert.Equal(t, "https://"+server, decodeValue(t, got)["url"])
					} else {
						assert.Nil(t, got, "revoked")
					}
				})
			}
		}
	}
}

// The same race with real concurrency: logins and revokes of many users run
// at once; every user ends without the revoked server.
func TestIntegrationConcurrentLoginsAndRevokes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.mainWorld()
	sid := e.server("hot", map[string]any{"url": "https://hot"}, time.UnixMilli(100))
	var users []string
	for range 20 {
		u := e.user("", "USER", "")
		e.grantUser(sid, u)
		users = append(users, u)
	}
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = w.apply(loginEvent(u))
		}()
	}
	require.NoError(t, e.lc.RevokeAll(e.ctx, sid))
	w.must(access("hot", cfg("https://hot"), 200))
	wg.Wait()
	for _, u := range users {
		w.login(u)
		assert.Nil(t, w.private(u, "hot"), "user %s keeps a revoked server", u)
	}
}

// A grant and then a config update that both land while the user's load
// runs (after its MongoDB read) leave the user with the server at the new
// config, as in-order processing would.
func TestIntegrationGrantThenUpdateDuringLoad(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := &hookedNoServers{}
	w := e.newWorldWith("w", src)
	src.during = func() {
		w.must(access("github", cfg("https://v1"), 1, "alice"))
		w.must(updated("github", cfg("https://v2"), 2))
	}
	w.login("alice")
	got := w.private("alice", "github")
	require.NotNil(t, got, "the grant recorded during the load survives the later update")
	assert.Equal(t, "https://v2", decodeValue(t, got)["url"])
}

// A flow whose server lock expired mid fan-out may write after a newer flow
// finished. The failing flow flags the fan-out again (MarkFanout), so its
// retry redoes it from the current record and the stale grant is revoked.
func TestIntegrationStaleGrantAfterLostLockIsRepaired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.newWorldWith("w", noServers{})
	w.login("bob")
	rdb, k := e.rdb, w.reg.Keys()
	// Worker A holds the lock and applies access v1 granting bob...
	require.NoError(t, rdb.Set(e.ctx, k.ServerLock("jira"), "tokenA", time.Minute).Err())
	resA, err := w.reg.ApplyChange(e.ctx, "tokenA", registry.Change{
		Server: "jira", Version: 1,
		Config: cfg("https://j"), SetsAccess: true, Allowed: []string{"bob"},
	})
	require.NoError(t, err)
	// ...stalls past its lock's expiry, while worker B applies v2 (nobody) completely.
	require.NoError(t, rdb.Del(e.ctx, k.ServerLock("jira")).Err())
	w.must(access("jira", cfg("https://j"), 2))
	// A resumes: its grant lands, its finish is fenced, it flags the fan-out (as ServerFlow does).
	_, err = w.reg.ApplyToUsers(e.ctx, "jira", resA.Record.Rev, registry.OpSet, []string{"bob"})
	require.NoError(t, err)
	require.ErrorIs(t, w.reg.FinishFanout(e.ctx, "tokenA", "jira", "", false), registry.ErrFenced)
	require.NoError(t, w.reg.MarkFanout(e.ctx, "jira", resA.Pending))
	// Layout 2: B's revoke left bob a tombstone at a newer revision, so the
	// stale grant is refused outright (layout 1 let it land, then repaired it).
	require.Nil(t, w.private("bob", "jira"), "the stale grant is fenced")

	w.must(access("jira", cfg("https://j"), 1, "bob")) // A's retry of v1
	assert.Nil(t, w.private("bob", "jira"), "the retry redid the fan-out from the current record")
}

// hookedNoServers is noServers with a hook run during the MongoDB read.
type hookedNoServers struct {
	during func()
}

func (s *hookedNoServers) AccessibleServers(ctx context.Context, user string) ([]serverdb.Server, error) {
	if s.during != nil {
		s.during()
	}
	return nil, nil
}
