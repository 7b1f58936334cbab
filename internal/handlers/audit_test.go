package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/handlers"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/testenv"
)

// crashingAuditor is the audit stream publisher with a switch that makes the
// next publishes fail, either before anything reaches JetStream (the worker
// died between the script and the publish) or after (it died between the
// publish and the outbox trim).
type crashingAuditor struct {
	*events.AuditPublisher
	mu          sync.Mutex
	failBefore  int
	failAfter   int
	publishedTo int // records handed to JetStream
}

func (a *crashingAuditor) Publish(ctx context.Context, records []events.AuditRecord) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.failBefore > 0 {
		a.failBefore--
		return errors.New("worker died before publishing")
	}
	if err := a.AuditPublisher.Publish(ctx, records); err != nil {
		return err
	}
	a.publishedTo += len(records)
	if a.failAfter > 0 {
		a.failAfter--
		return errors.New("worker died before trimming the outbox")
	}
	return nil
}

// auditWorld is the main world with the flows audited to a real audit stream.
type auditWorld struct {
	world
	js      jetstream.JetStream
	ec      events.Config
	auditor *crashingAuditor
}

func (e *env) auditWorld() auditWorld {
	e.t.Helper()
	n := testenv.StartNATS(e.t)
	ec := events.DefaultConfig()
	require.NoError(e.t, events.Provision(e.ctx, n.JS, ec))
	a := &crashingAuditor{AuditPublisher: events.NewAuditPublisher(n.JS, ec, "worker-a")}
	locks := lockstatus.New(e.rdb, lockstatus.Config{TTL: 2 * time.Second, WaitTries: 100, RetryDelay: 20 * time.Millisecond})
	flows := handlers.Map(handlers.Params{
		Registry: e.reg, Locks: locks, Source: e.source, IDs: e.store, Access: e.store, Audit: a,
		Config: handlers.Config{LoginRetryDelay: 20 * time.Millisecond},
	})
	return auditWorld{world: world{e: e, reg: e.reg, flows: flows}, js: n.JS, ec: ec, auditor: a}
}

// records reads the audit stream with q.
func (w auditWorld) records(q events.AuditQuery) []events.AuditRecord {
	w.e.t.Helper()
	out := []events.AuditRecord{}
	require.NoError(w.e.t, events.ReadAudit(w.e.ctx, w.js, w.ec, q, func(r events.AuditRecord) error {
		out = append(out, r)
		return nil
	}))
	return out
}

// stored counts the messages on the audit stream.
func (w auditWorld) stored() uint64 {
	w.e.t.Helper()
	st, err := w.js.Stream(w.e.ctx, w.ec.AuditStream)
	require.NoError(w.e.t, err)
	info, err := st.Info(w.e.ctx)
	require.NoError(w.e.t, err)
	return info.State.Msgs
}

// with gives ev an id and its subject, as the consume loop would.
func with(ev events.Event, id string) events.Event {
	ev.EventID, ev.Subject = id, "mcp."+string(ev.Kind)
	return ev
}

// brief is a record without the fields that vary between runs.
func brief(r events.AuditRecord) string {
	return strings.Join([]string{r.Kind, r.User, r.Server, r.Before, r.After, r.EventID}, " ")
}

func briefs(rs []events.AuditRecord) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, brief(r))
	}
	return out
}

// A grant, a revoke, a promote, a demote, a refresh and a delete each leave
// their records, with before and after and the event that caused them; a
// replayed event (new message id, same version) writes none; no record holds
// a config value.
func TestIntegrationAuditTrailOfEveryChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.auditWorld()
	alice, bob := e.user("alice", "USER", ""), e.user("bob", "USER", "")
	w.login(alice)
	w.login(bob)
	secret := cfg("https://gh", "apiKey", map[string]any{"key": "s3cr3t-value"}, "headers", map[string]any{"Authorization": "Bearer tok-XYZ"})

	w.must(with(created("github", alice, secret, 1), "ev-created"))
	w.must(with(access("github", secret, 2, alice, bob), "ev-access-2"))
	w.must(with(access("github", secret, 2, alice, bob), "ev-access-2-replayed"))
	w.must(with(access("github", secret, 3, bob), "ev-access-3"))
	w.must(with(shared("github", secret, 4), "ev-shared"))
	w.must(with(unshared("github", secret, 5, alice), "ev-unshared"))
	w.must(with(deleted("github", 6), "ev-deleted"))

	jira := e.server("jira", map[string]any{"url": "https://jira"}, time.UnixMilli(1))
	e.grantUser(jira, bob)
	w.must(with(events.Event{Kind: events.KindUserRefresh, UserID: bob}, "ev-refresh"))
	w.must(with(events.Event{Kind: events.KindUserRefresh, UserID: bob}, "ev-refresh-again"))

	assert.Equal(t, []string{
		"grant " + alice + " github none member ev-created",
		"revoke " + alice + " github member none ev-access-3",
		"grant " + alice + " github none member ev-unshared",
	}, briefs(w.records(events.AuditQuery{User: alice})))
	assert.Equal(t, []string{
		"grant " + alice + " github none member ev-created",
		"grant " + bob + " github none member ev-access-2",
		"revoke " + alice + " github member none ev-access-3",
		"promote * github private app ev-shared",
		"demote * github app private ev-unshared",
		"grant " + alice + " github none member ev-unshared",
		"revoke " + bob + " github member none ev-unshared",
		"delete * github private deleted ev-deleted",
	}, briefs(w.records(events.AuditQuery{Server: "github"})))
	bobs := w.records(events.AuditQuery{User: bob})
	assert.Contains(t, briefs(bobs), "refresh "+bob+" jira none member ev-refresh")
	assert.Len(t, bobs, 3, "the second refresh changed nothing")

	r := w.records(events.AuditQuery{User: alice, Server: "github"})[0]
	assert.Equal(t, "mcp.server.created", r.Subject)
	assert.Equal(t, int64(1), r.Version)
	assert.Equal(t, "worker-a", r.Worker)
	assert.False(t, r.AllUsers)
	assert.WithinDuration(t, time.Now(), r.Time, time.Minute)
	deleteRec := w.records(events.AuditQuery{Server: "github"})[7]
	assert.True(t, deleteRec.AllUsers)

	all := w.records(events.AuditQuery{Server: "github"})
	raw, err := json.Marshal(all)
	require.NoError(t, err)
	for _, s := range []string{"s3cr3t-value", "tok-XYZ", "https://gh", "apiKey"} {
		assert.NotContains(t, string(raw), s, "a record holds no config value")
	}
	assert.Empty(t, w.records(events.AuditQuery{User: "nobody"}))
	assert.Empty(t, w.records(events.AuditQuery{Server: "github", Since: time.Now().Add(time.Hour)}))
}

// The worker dies after the script changed the registry and before the record
// reached the audit stream: the record waits in the user's outbox and the
// redelivery publishes it exactly once. Dying after the publish but before the
// outbox trim: the redelivery publishes it again under the same message id,
// which JetStream stores once.
func TestIntegrationAuditRecordSurvivesACrashExactlyOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.auditWorld()
	alice, bob := e.user("alice", "USER", ""), e.user("bob", "USER", "")
	w.login(alice)
	w.login(bob)

	w.auditor.failBefore = 1
	ev := with(created("crm", alice, cfg("https://crm"), 1), "ev-1")
	require.Error(t, w.apply(ev), "the first delivery fails: its record is not published")
	assert.Equal(t, []string{"crm"}, e.privateNames(alice), "the change itself was made")
	n, err := e.rdb.LLen(e.ctx, e.reg.Keys().UserAudit(alice)).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the record waits in the outbox")
	assert.Zero(t, w.stored())
	w.must(ev) // the redelivery
	assert.Equal(t, []string{"grant " + alice + " crm none member ev-1"}, briefs(w.records(events.AuditQuery{User: alice})))
	assert.Equal(t, uint64(1), w.stored())

	w.auditor.failAfter = 1
	handed := w.auditor.publishedTo
	ev = with(access("crm", cfg("https://crm"), 2, alice, bob), "ev-2")
	require.Error(t, w.apply(ev))
	w.must(ev)
	assert.Equal(t, 2, w.auditor.publishedTo-handed, "the record was handed to JetStream twice")
	assert.Equal(t, uint64(2), w.stored(), "and stored once")
	assert.Equal(t, []string{"grant " + bob + " crm none member ev-2"}, briefs(w.records(events.AuditQuery{User: bob})))
	for _, u := range []string{alice, bob} {
		n, err := e.rdb.Exists(e.ctx, e.reg.Keys().UserAudit(u)).Result()
		require.NoError(t, err)
		assert.Zero(t, n, "outbox of %s drained", u)
	}
}

var _ handlers.Auditor = (*crashingAuditor)(nil)
