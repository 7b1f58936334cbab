package handlers_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/handlers"
	"github.com/mcp-registry/worker/internal/lockstatus"
)

// Review 10: an access change that grants one user and revokes another must
// not let a failing audit publish stop the revoke. The fan-out grants first;
// ApplyToUsers drains the granted user's audit outbox before it returns, and
// when that publish fails (audit stream full, out of JetStream storage, NATS
// blip) the flow returns before revoke() runs. Every redelivery re-grants
// the allowed set, finds the undrained outbox, fails the same way: the
// revoked user keeps the server until the event is dead-lettered, and after.
func TestIntegrationReview10FailingAuditPublishDoesNotBlockTheRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.auditWorld()
	alice, bob, carol := e.user("alice", "USER", ""), e.user("bob", "USER", ""), e.user("carol", "USER", "")
	w.login(alice)
	w.login(bob)
	w.login(carol)

	w.must(with(created("crm", alice, cfg("https://crm"), 1), "ev-1"))
	w.must(with(access("crm", cfg("https://crm"), 2, alice, bob), "ev-2"))
	require.Equal(t, []string{"crm"}, e.privateNames(bob), "bob was granted the server")

	w.auditor.failBefore = 1000 // the audit stream refuses records for a while
	ev := with(access("crm", cfg("https://crm"), 3, alice, carol), "ev-3")
	for range 3 { // the delivery and two redeliveries
		require.Error(t, w.apply(ev), "the audit records are not published: the event is retried")
	}
	assert.Empty(t, e.privateNames(bob), "bob's access is revoked although the audit publish fails")

	w.auditor.failBefore = 0
	w.must(ev)
	assert.Empty(t, e.privateNames(bob))
	assert.Equal(t, []string{"crm"}, e.privateNames(carol))
	assert.Contains(t, briefs(w.records(events.AuditQuery{User: bob})), "revoke "+bob+" crm member none ev-3")
	assert.Contains(t, briefs(w.records(events.AuditQuery{User: carol})), "grant "+carol+" crm none member ev-3")
	for _, u := range []string{bob, carol} {
		n, err := e.rdb.Exists(e.ctx, e.reg.Keys().UserAudit(u)).Result()
		require.NoError(t, err)
		assert.Zero(t, n, "outbox of %s drained by the redelivery", u)
	}
}

// Review 10: the same for the server's own outbox. A delete's record ("*")
// waits there while the audit stream refuses records, and ApplyChange drains
// that outbox, failing, before the flow fans out: every later event of the
// server stops there before its fan-out, so a revoke of the re-created
// server never reaches the user who got it at a refresh.
func TestIntegrationReview10StuckServerOutboxDoesNotBlockTheRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.auditWorld()
	alice, bob := e.user("alice", "USER", ""), e.user("bob", "USER", "")
	w.login(alice)
	w.login(bob)
	c := cfg("https://crm")
	w.must(with(created("crm", alice, c, 1), "ev-1"))

	w.auditor.failBefore = 1000 // the audit stream refuses records for a while
	require.Error(t, w.apply(with(deleted("crm", 2), "ev-2")))
	require.Error(t, w.apply(with(created("crm", alice, c, 3), "ev-3")))
	require.Error(t, w.apply(with(access("crm", c, 4, alice, bob), "ev-4")))
	crm := e.server("crm", map[string]any{"url": "https://crm"}, time.UnixMilli(3))
	e.grantUser(crm, bob)
	// The swap is made; its own record waits too (the refresh is retried).
	_ = w.apply(with(events.Event{Kind: events.KindUserRefresh, UserID: bob}, "ev-refresh"))
	require.Equal(t, []string{"crm"}, e.privateNames(bob), "bob got the re-created server from MongoDB")

	require.Error(t, w.apply(with(access("crm", c, 5, alice), "ev-5")), "the audit records wait: retried")
	assert.Empty(t, e.privateNames(bob), "bob's access is revoked although the audit publish fails")

	w.auditor.failBefore = 0
	w.must(with(access("crm", c, 5, alice), "ev-5")) // the redelivery drains the outboxes
	assert.Empty(t, e.privateNames(bob))
	assert.Contains(t, briefs(w.records(events.AuditQuery{Server: "crm"})), "delete * crm private deleted ev-2")
	n, err := e.rdb.Exists(e.ctx, e.reg.Keys().ServerAudit("crm")).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "the server's outbox is drained")
}

// Review 10: the same for the shared outbox (one for every server), which
// PutTier drains before a demote's grant and revoke.
func TestIntegrationReview10StuckSharedOutboxDoesNotBlockADemotesRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.auditWorld()
	alice, bob := e.user("alice", "USER", ""), e.user("bob", "USER", "")
	w.login(alice)
	w.login(bob)
	c := cfg("https://crm")
	w.must(with(created("crm", alice, c, 1), "ev-1"))
	w.must(with(access("crm", c, 2, alice, bob), "ev-2"))
	w.must(with(shared("crm", c, 3), "ev-3"))
	require.Contains(t, w.view(bob).Effective, "crm")

	w.auditor.failBefore = 1000
	require.Error(t, w.apply(with(unshared("crm", c, 4, alice), "ev-4")), "the audit records wait: retried")
	assert.NotContains(t, w.view(bob).Effective, "crm", "bob's access is gone although the audit publish fails")
	assert.Contains(t, w.view(alice).Effective, "crm")

	w.auditor.failBefore = 0
	w.must(with(unshared("crm", c, 4, alice), "ev-4")) // the redelivery drains the outboxes
	assert.NotContains(t, w.view(bob).Effective, "crm")
	assert.Contains(t, briefs(w.records(events.AuditQuery{Server: "crm"})), "demote * crm app private ev-4")
	n, err := e.rdb.Exists(e.ctx, e.reg.Keys().SharedAudit()).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "the shared outbox is drained")
}

// hangingAuditor never hears back from the audit stream (a stream without a
// leader: the publish acks never come): Publish returns when ctx ends.
type hangingAuditor struct{ worker string }

func (a hangingAuditor) Worker() string { return a.worker }

func (a hangingAuditor) Publish(ctx context.Context, _ []events.AuditRecord) error {
	<-ctx.Done()
	return ctx.Err()
}

// Review 10: an audit publish that hangs takes the handler's whole deadline
// with it, and the revoke that follows runs on an expired context: the
// revoked user keeps the server however often the event is redelivered.
func TestIntegrationReview10HangingAuditPublishDoesNotBlockTheRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	locks := lockstatus.New(e.rdb, lockstatus.Config{TTL: 2 * time.Second, WaitTries: 100, RetryDelay: 20 * time.Millisecond})
	params := handlers.Params{
		Registry: e.reg, Locks: locks, Source: e.source, IDs: e.store, Access: e.store,
		Config: handlers.Config{LoginRetryDelay: 20 * time.Millisecond},
	}
	plain := world{e: e, reg: e.reg, flows: handlers.Map(params)}
	params.Audit = hangingAuditor{worker: "worker-a"}
	hanging := handlers.Map(params)
	alice, bob, carol := e.user("alice", "USER", ""), e.user("bob", "USER", ""), e.user("carol", "USER", "")
	plain.login(alice)
	plain.login(bob)
	plain.login(carol)
	c := cfg("https://crm")
	plain.must(created("crm", alice, c, 1))
	plain.must(access("crm", c, 2, alice, bob))
	require.Equal(t, []string{"crm"}, e.privateNames(bob))

	ctx, cancel := context.WithTimeout(e.ctx, 8*time.Second) // the handler's deadline
	defer cancel()
	require.Error(t, hanging[events.KindServerAccess].Handle(ctx, access("crm", c, 3, alice, carol)))
	assert.Empty(t, e.privateNames(bob), "bob's access is revoked although the audit publish hangs")
}

// Review 10: the same across the users of one group change. Each user's
// refresh drains that user's outbox after the swap; a failed drain returned
// at once, so the users after the first one whose refresh recorded a change
// were never refreshed: a removed member kept the group's servers on every
// redelivery.
func TestIntegrationReview10FailingAuditPublishDoesNotStopAGroupChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.auditWorld()
	alice, bob := e.user("alice", "USER", ""), e.user("bob", "USER", "")
	require.Less(t, alice, bob, "alice is refreshed first")
	jira := e.server("jira", map[string]any{"url": "https://jira"}, time.UnixMilli(1))
	wiki := e.server("wiki", map[string]any{"url": "https://wiki"}, time.UnixMilli(1))
	e.grantUser(jira, bob)
	w.login(alice)
	w.login(bob)
	require.Equal(t, []string{"jira"}, e.privateNames(bob))

	// The group's change in MongoDB: alice gains wiki, bob loses jira.
	e.grantUser(wiki, alice)
	bobID, err := bson.ObjectIDFromHex(bob)
	require.NoError(t, err)
	require.NoError(t, e.lc.RevokeUser(e.ctx, jira, bobID))
	w.auditor.failBefore = 1000
	ev := with(events.Event{Kind: events.KindGroupChanged, GroupID: "g1", AddedMemberIDs: []string{alice}, RemovedMemberIDs: []string{bob}}, "ev-g1")
	for range 3 { // the delivery and two redeliveries
		require.Error(t, w.apply(ev), "the audit records wait: retried")
	}
	assert.Equal(t, []string{"wiki"}, e.privateNames(alice))
	assert.Empty(t, e.privateNames(bob), "bob's access is revoked although the audit publish fails")

	w.auditor.failBefore = 0
	w.must(ev)
	assert.Contains(t, briefs(w.records(events.AuditQuery{User: bob})), "refresh "+bob+" jira member none ev-g1")
}
