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
