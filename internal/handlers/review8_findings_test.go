package handlers_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/handlers"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
)

// switchableIDs is a ServerIDs that finds nothing, or fails as MongoDB down.
type switchableIDs struct{ down atomic.Bool }

func (s *switchableIDs) ServerID(context.Context, string, string) (string, bool, error) {
	if s.down.Load() {
		return "", false, events.Unavailable(events.DepMongoDB, errors.New("server selection timeout"))
	}
	return "", false, nil
}

// Review 8: a revoke of a server whose value has no MongoDB id yet must not
// wait for MongoDB. The access change needs no id; only the value's missing
// dbId is looked up, and that lookup ran before the fan-out, so during a
// MongoDB outage the revoked user kept the server until MongoDB was back.
func TestIntegrationReview8RevokeDoesNotWaitForTheIDLookup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := &switchableIDs{}
	cfg := registry.DefaultConfig()
	cfg.KeyPrefix = e.prefix + "r8:"
	reg := registry.New(e.rdb, cfg)
	locks := lockstatus.New(e.rdb, lockstatus.Config{TTL: 2 * time.Second, WaitTries: 100, RetryDelay: 20 * time.Millisecond})
	w := world{e: e, reg: reg, flows: handlers.Map(handlers.Params{
		Registry: reg, Locks: locks, Source: e.source, IDs: ids,
		Config: handlers.Config{LoginRetryDelay: 20 * time.Millisecond},
	})}

	w.must(created("s8", "alice", cfg8(), 1)) // no dbId anywhere: the value has none
	w.login("bob")
	w.must(access("s8", cfg8(), 2, "alice", "bob"))
	require.Contains(t, w.view("bob").Effective, "s8", "bob was granted the server")

	ids.down.Store(true)
	_ = w.apply(access("s8", cfg8(), 3, "alice")) // fails on the id lookup: retried later
	assert.NotContains(t, w.view("bob").Effective, "s8", "the revoke is applied although MongoDB is down")

	ids.down.Store(false)
	w.must(access("s8", cfg8(), 3, "alice")) // the redelivery completes
	assert.NotContains(t, w.view("bob").Effective, "s8")
}

func cfg8() []byte { return cfg("https://s8.example.test/mcp") }
