package registry_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

// sink collects what the registry drains; fail makes the next drains fail.
type sink struct {
	mu      sync.Mutex
	entries []registry.AuditEntry
	fail    int
}

func (s *sink) publish(_ context.Context, entries []registry.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return errors.New("audit stream unreachable")
	}
	s.entries = append(s.entries, entries...)
	return nil
}

// take returns the entries drained since the last take, as kind user server before after.
func (s *sink) take() [][5]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := [][5]string{}
	for _, e := range s.entries {
		out = append(out, [5]string{e.Kind, e.User, e.Server, e.Before, e.After})
	}
	s.entries = nil
	return out
}

var cause = registry.AuditCause{EventID: "ev-1", Subject: "mcp.server.access", Version: 42, StreamSeq: 7, Worker: "w1"}

// Every script that changes a user's access records it, in its own step,
// with before and after; a repeated or stale change records nothing; the
// outbox is drained before the call returns.
func TestIntegrationAuditEntriesOfEachScript(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	s := &sink{}
	ctx := registry.WithAudit(t.Context(), cause, s.publish)
	k := reg.Keys()
	loadUser(t, reg, c, "u.1 *>", registry.Entry{Name: "agent-only", Rev: 1, ConsumeOnly: true})

	// grant, repeated grant, consumeOnly made direct, revoke, stale revoke
	_, err := reg.ApplyToUsers(ctx, "srv", 5, registry.OpSet, []string{"u.1 *>", "not-loaded"})
	require.NoError(t, err)
	assert.Equal(t, [][5]string{{"grant", "u.1 *>", "srv", "none", "member"}}, s.take())
	_, err = reg.ApplyToUsers(ctx, "srv", 5, registry.OpSet, []string{"u.1 *>"})
	require.NoError(t, err)
	_, err = reg.ApplyToUsers(ctx, "srv", 4, registry.OpDelete, []string{"u.1 *>"})
	require.NoError(t, err)
	assert.Empty(t, s.take(), "a repeated grant and a stale revoke change nothing and record nothing")
	_, err = reg.ApplyToUsers(ctx, "agent-only", 6, registry.OpSet, []string{"u.1 *>"})
	require.NoError(t, err)
	assert.Equal(t, [][5]string{{"grant", "u.1 *>", "agent-only", "consumeOnly", "member"}}, s.take())
	_, err = reg.ApplyToUsers(ctx, "srv", 7, registry.OpDelete, []string{"u.1 *>"})
	require.NoError(t, err)
	got := s.entries
	require.Len(t, got, 1)
	assert.Equal(t, cause, got[0].Cause)
	assert.Equal(t, int64(7), got[0].Rev)
	assert.False(t, got[0].AllUsers())
	assert.Positive(t, got[0].TimeMicros)
	assert.Equal(t, [][5]string{{"revoke", "u.1 *>", "srv", "member", "none"}}, s.take())

	// a refresh swaps the snapshot: one entry per server whose state changed
	holdLock(t, c, k.UserLock("u.1 *>"), "r1")
	began, _, err := reg.BeginLoad(ctx, "u.1 *>", "r1", registry.ModeRefresh)
	require.NoError(t, err)
	require.True(t, began)
	_, err = reg.CommitLoad(ctx, "u.1 *>", "r1", "", []registry.Entry{
		{Name: "agent-only", Rev: 8, ConsumeOnly: true}, {Name: "new", Rev: 8},
	})
	require.NoError(t, err)
	assert.ElementsMatch(t, [][5]string{
		{"refresh", "u.1 *>", "agent-only", "member", "consumeOnly"},
		{"refresh", "u.1 *>", "new", "none", "member"},
	}, s.take())
	// a login (the user was not loaded) fills a cache: no entry
	loadUserCtx(ctx, t, reg, c, "fresh", registry.Entry{Name: "srv", Rev: 1})
	assert.Empty(t, s.take())

	// tiers: promote, retier, demote, and the same tier again
	for _, step := range []struct {
		tier registry.Tier
		rev  int64
		want [][5]string
	}{
		{registry.TierApp, 10, [][5]string{{"promote", "*", "pub", "private", "app"}}},
		{registry.TierApp, 10, [][5]string{}},
		{registry.TierUser, 11, [][5]string{{"retier", "*", "pub", "app", "user"}}},
		{"", 12, [][5]string{{"demote", "*", "pub", "user", "private"}}},
		{registry.TierApp, 9, [][5]string{}}, // stale
	} {
		require.NoError(t, reg.PutTier(ctx, "pub", step.tier, step.rev))
		assert.Equal(t, step.want, s.take(), "tier %q rev %d", step.tier, step.rev)
	}

	// delete, for every user; a repeated delete records nothing
	createServer(t, reg, c, "gone", 1, registry.ScopePublic, `{"url":"x","apiKey":"s3cret"}`)
	holdLock(t, c, k.ServerLock("gone"), srvToken)
	for range 2 {
		_, err = reg.ApplyChange(ctx, srvToken, registry.Change{Server: "gone", Version: 2, Scope: registry.ScopeDeleted})
		require.NoError(t, err)
	}
	assert.Equal(t, [][5]string{{"delete", "*", "gone", "app", "deleted"}}, s.take())
	require.NoError(t, reg.RemoveDeletedFromTiers(ctx, "gone", 2))
	assert.Empty(t, s.take(), "the delete's own record stands for the tier it left")

	for _, key := range []string{k.UserAudit("u.1 *>"), k.ServerAudit("gone"), k.SharedAudit()} {
		assert.False(t, exists(t, c, key), "%s drained", key)
	}
}

// Without WithAudit the scripts record nothing.
func TestIntegrationAuditOffRecordsNothing(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	loadUser(t, reg, c, "u1")
	_, err := reg.ApplyToUsers(t.Context(), "srv", 1, registry.OpSet, []string{"u1"})
	require.NoError(t, err)
	require.NoError(t, reg.PutTier(t.Context(), "srv", registry.TierApp, 1))
	assert.False(t, exists(t, c, reg.Keys().UserAudit("u1")))
	assert.False(t, exists(t, c, reg.Keys().SharedAudit()))
}

// A drain that fails leaves the entry in the outbox with a TTL, the failure
// is put off (AuditFailed: the flow fails once its users are done, and the
// event is retried), and the next write to that user drains it, even when it
// changes nothing itself.
func TestIntegrationAuditOutboxSurvivesAFailedDrain(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	s := &sink{fail: 1}
	ctx := registry.WithAudit(t.Context(), cause, s.publish)
	loadUser(t, reg, c, "u1")
	_, err := reg.ApplyToUsers(ctx, "srv", 3, registry.OpSet, []string{"u1"})
	require.NoError(t, err, "the change is made; the drain's failure is put off")
	require.Error(t, registry.AuditFailed(ctx))
	key := reg.Keys().UserAudit("u1")
	n, err := c.LLen(t.Context(), key).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	assert.Positive(t, pttl(t, c, key), "a forgotten outbox expires")
	assert.Empty(t, s.take())

	ctx = registry.WithAudit(t.Context(), cause, s.publish)                  // the redelivery's
	_, err = reg.ApplyToUsers(ctx, "srv", 3, registry.OpSet, []string{"u1"}) // no change now
	require.NoError(t, err)
	require.NoError(t, registry.AuditFailed(ctx))
	assert.Equal(t, [][5]string{{"grant", "u1", "srv", "none", "member"}}, s.take())
	assert.False(t, exists(t, c, key))
}

// loadUserCtx is loadUser under ctx.
func loadUserCtx(ctx context.Context, t *testing.T, reg *registry.Registry, c redis.UniversalClient, user string, entries ...registry.Entry) {
	t.Helper()
	tok := "load-" + user
	holdLock(t, c, reg.Keys().UserLock(user), tok)
	began, _, err := reg.BeginLoad(ctx, user, tok, registry.ModeLogin)
	require.NoError(t, err)
	require.True(t, began)
	_, err = reg.CommitLoad(ctx, user, tok, "", entries)
	require.NoError(t, err)
}
