package handlers_test

// Adversarial review 5 (reviewer's tests, not part of the project).

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
)

// pipeHook runs fn once just before the first pipeline that carries an
// apply_user "set" for user reaches Redis, and then blocks the caller until
// the test ends after that pipeline landed (the worker process died right
// after it).
type pipeHook struct {
	sha, user string
	once      sync.Once
	fn        func()
	landed    chan struct{}
	release   chan struct{} // closed at cleanup: the crashed flow's goroutine returns
	noCrash   bool
}

func (h *pipeHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *pipeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *pipeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		hit := false
		for _, c := range cmds {
			// EVALSHA sha numkeys keys... name op rev user ...
			a := c.Args()
			if len(a) < 3 || a[1] != h.sha {
				continue
			}
			n, _ := a[2].(int)
			if len(a) > 3+n+3 && a[3+n+1] == "set" && a[3+n+3] == h.user {
				hit = true
			}
		}
		if !hit || h.fn == nil {
			return next(ctx, cmds)
		}
		fired := false
		h.once.Do(func() { fired = true; h.fn() })
		if !fired {
			return next(ctx, cmds)
		}
		err := next(context.WithoutCancel(ctx), cmds)
		close(h.landed)
		if h.noCrash {
			return err
		}
		<-h.release // crash: nothing of this flow runs any more until the test has ended
		return errors.New("simulated crash")
	}
}

// A flow that lost its server lock mid-grant lands a stale grant on a user
// who reloaded meanwhile; the design relies on MarkFanout + redelivery to
// take it back via the revoke set. If the worker dies between the stale
// grant (write A) and MarkFanout (write B), the redelivery finds the fanout
// mask cleared by the newer flow and is skipped: the revoked user keeps the
// server, and no later non-access event repairs it.
func TestIntegrationReview5StaleGrantThenCrashKeepsAccess(t *testing.T) { review5Stale(t, false) }

// Control: without the crash, MarkFanout + redelivery takes the grant back.
func TestIntegrationReview5StaleGrantNoCrashControl(t *testing.T) { review5Stale(t, true) }

func review5Stale(t *testing.T, noCrash bool) {
	sha, _ := scriptSHA(t, "apply_user.lua")
	h := &pipeHook{sha: sha, user: "w", landed: make(chan struct{}), release: make(chan struct{}), noCrash: noCrash}
	w := newRWorld(t, h)
	for _, u := range []string{"o", "w"} {
		w.mustRun(events.KindUserLogin, events.Event{UserID: u})
	}
	w.mustRun(events.KindServerCreated, created("s", "o", cfg("https://s"), 1))

	h.fn = func() {
		// F1's lock expires (stall); E2 removes w; w reloads (MongoDB no
		// longer grants it, so its new hash has no tombstone for s).
		require.NoError(t, w.rdb.Del(w.ctx, w.reg.Keys().ServerLock("s")).Err())
		w.mustRun(events.KindServerAccess, access("s", cfg("https://s"), 3, "o"))
		m, _, err := w.reg.Members(w.ctx, "w")
		require.NoError(t, err)
		require.NotContains(t, m, "s")
		w.mustRun(events.KindUserInvalidate, events.Event{UserID: "w"})
		w.mustRun(events.KindUserLogin, events.Event{UserID: "w"})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.run(events.KindServerAccess, access("s", cfg("https://s"), 2, "o", "w"))
	}()
	t.Cleanup(func() { // before the world's servers stop (cleanups run last first)
		close(h.release)
		<-done
	})
	select {
	case <-h.landed:
	case <-time.After(20 * time.Second):
		t.Fatal("stale grant never sent")
	}
	if noCrash {
		<-done
	}
	// Redelivery of version 2 after the crash (another worker), then an
	// ordinary config update of the server.
	w.mustRun(events.KindServerAccess, access("s", cfg("https://s"), 2, "o", "w"))
	w.mustRun(events.KindServerUpdated, updated("s", cfg("https://s2"), 4))

	m, loaded, err := w.reg.Members(w.ctx, "w")
	require.NoError(t, err)
	require.True(t, loaded)
	allowed := w.rdb.SIsMember(w.ctx, w.reg.Keys().ServerAllowed("s"), "w").Val()
	assert.False(t, allowed)
	assert.NotContains(t, m, "s", "w was removed by version 3 but holds s (stale v2 grant never taken back)")
}
