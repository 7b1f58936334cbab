package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/testenv"
	"github.com/mcp-registry/worker/reader"
)

// The worker runs with exactly the NATS permissions and the Redis ACL of
// deploy/README.md (both read from the README, not copied) and every other
// setting at its default: it provisions JetStream itself (--provision is on:
// the documented permissions include the stream and consumer create/update
// calls); a login and a server.access grant and revoke reach a reader that
// has only the reader ACL, change-feed notices included; every other flow
// runs without a refusal or a retry; an invalid event is dead-lettered and
// worker_ops lists it; Mcp-Notify results reach _INBOX subjects but never
// the JetStream API; and each documented user is refused what the README
// says it must not publish.
func TestIntegrationLeastPrivilegeDocumentedPermissions(t *testing.T) {
	t.Parallel()
	hostPort := startDocumentedNATS(t)
	srv, rdb := testenv.StartRedisServer(t)
	m := testenv.StartMongo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	aclArgs, redisUser, redisPass := documentedACL(t)
	require.NoError(t, rdb.Do(ctx, aclArgs...).Err(), "the README's ACL line: %v", aclArgs)
	require.NoError(t, rdb.Do(ctx, readerACL("mcp:")...).Err())
	rd, err := reader.New(redisAs(t, srv.Addr, "mcp-reader", "reader-pass"), reader.Options{KeyPrefix: "mcp:"})
	require.NoError(t, err)

	lc := devstack.LibreChat{DB: m.DB}
	uid, err := lc.AddUser(ctx, "USER", "")
	require.NoError(t, err)
	user := uid.Hex()
	alpha, err := lc.AddServer(ctx, "alpha", map[string]any{"url": "https://alpha"}, time.UnixMilli(1))
	require.NoError(t, err)
	require.NoError(t, lc.GrantUser(ctx, alpha, uid, devstack.PermView))

	// Every setting at its default (names as in the README) except where the
	// servers are and who the worker is.
	cfg := loadTestConfig(t, "--nats-url", natsURL("worker", hostPort),
		"--redis-url", "redis://"+srv.Addr, "--redis-username", redisUser, "--redis-password", redisPass,
		"--mongodb-uri", m.URI, "--ops-addr", "", "--lock-ttl", "2s")
	require.True(t, cfg.Provision, "the worker provisions JetStream itself")
	logs := &lockedBuffer{}
	var loads atomic.Int64
	startWorker(t, cfg, logs, &loads)

	admin, _ := connectAs(t, hostPort, "admin")
	adminJS, err := jetstream.New(admin)
	require.NoError(t, err)
	for _, name := range []string{cfg.Stream, cfg.DLQStream, cfg.AuditStream} {
		_, err := adminJS.Stream(ctx, name)
		require.NoError(t, err, "the worker provisioned stream %s", name)
	}
	apiDeletes, err := admin.SubscribeSync("$JS.API.STREAM.DELETE.>")
	require.NoError(t, err)
	require.NoError(t, admin.Flush())

	// The admin service publishes the events and waits for each result on
	// its own inbox (Mcp-Notify), as a chat node would.
	pub, _ := connectAs(t, hostPort, "admin_service")
	pubJS, err := jetstream.New(pub)
	require.NoError(t, err)
	send := func(subject, payload string) events.Notification {
		t.Helper()
		inbox := pub.NewRespInbox()
		sub, err := pub.SubscribeSync(inbox)
		require.NoError(t, err)
		defer func() { _ = sub.Unsubscribe() }()
		msg := nats.NewMsg(subject)
		msg.Data = []byte(payload)
		msg.Header.Set(events.HeaderNotify, inbox)
		_, err = pubJS.PublishMsg(ctx, msg)
		require.NoError(t, err, "publish %s as admin_service", subject)
		got, err := sub.NextMsg(30 * time.Second)
		require.NoError(t, err, "result of %s on %s", subject, inbox)
		var n events.Notification
		require.NoError(t, json.Unmarshal(got.Data, &n))
		return n
	}
	private := func() map[string]json.RawMessage {
		t.Helper()
		p, loaded, err := rd.Private(ctx, user)
		require.NoError(t, err)
		require.True(t, loaded, "user loaded")
		return p
	}

	n := send("mcp.user.login", fmt.Sprintf(`{"userId":%q}`, user))
	require.Equal(t, events.OutcomeDone, n.Outcome, "login: %+v", n)
	assert.Contains(t, private(), "alpha", "the login loaded the user from MongoDB")

	// The change feed reaches a reader with the reader ACL: the worker's
	// scripts may SPUBLISH on the prefix's channels.
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	feed, err := rd.Watch(watchCtx, user)
	require.NoError(t, err)
	notice := func(change, server string) {
		t.Helper()
		for {
			select {
			case c := <-feed:
				if c.Change == change && slices.Contains(c.Servers, server) {
					return
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no %q notice for %s on the change feed within 10s", change, server)
			}
		}
	}

	access := `{"serverName":"beta","allowedUserIds":%s,"config":{"url":"https://beta"},"version":%d}`
	n = send("mcp.server.access", fmt.Sprintf(access, fmt.Sprintf("[%q]", user), 10))
	require.Equal(t, events.OutcomeDone, n.Outcome, "grant: %+v", n)
	notice("added", "beta")
	assert.Contains(t, private(), "beta", "granted")
	n = send("mcp.server.access", fmt.Sprintf(access, "[]", 11))
	require.Equal(t, events.OutcomeDone, n.Outcome, "revoke: %+v", n)
	notice("removed", "beta")
	assert.NotContains(t, private(), "beta", "revoked")
	assert.Contains(t, private(), "alpha")

	// Every other flow once, so that every script runs under the ACL.
	for _, ev := range []struct{ subject, payload string }{
		{"mcp.server.created", fmt.Sprintf(`{"serverName":"delta","userId":%q,"config":{"url":"https://delta"},"version":10}`, user)},
		{"mcp.server.updated", `{"serverName":"delta","config":{"url":"https://delta/v2"},"version":20}`},
		{"mcp.server.shared", `{"serverName":"delta","config":{"url":"https://delta/v2"},"version":30}`},
		{"mcp.server.unshared", fmt.Sprintf(`{"serverName":"delta","allowedUserIds":[%q],"config":{"url":"https://delta/v2"},"version":40}`, user)},
		{"mcp.server.deleted", `{"serverName":"delta","version":50}`},
		{"mcp.user.invalidate", fmt.Sprintf(`{"userId":%q}`, user)},
		{"mcp.user.login", fmt.Sprintf(`{"userId":%q}`, user)},
	} {
		n := send(ev.subject, ev.payload)
		require.Equal(t, events.OutcomeDone, n.Outcome, "%s: %+v", ev.subject, n)
	}
	assert.Equal(t, []string{"alpha"}, slices.Sorted(maps.Keys(private())), "delta deleted, reloaded from MongoDB")

	n = send("mcp.server.updated", `{"serverName":"oops","config":"not an object","version":1}`)
	require.Equal(t, events.OutcomeDeadLettered, n.Outcome, "invalid event: %+v", n)
	ops, _ := connectAs(t, hostPort, "worker_ops")
	opsJS, err := jetstream.New(ops)
	require.NoError(t, err)
	dead, err := events.ListDeadLetters(ctx, opsJS, cfg.eventsConfig(), 0)
	require.NoError(t, err, "worker_ops lists dead letters")
	require.Len(t, dead, 1)
	assert.Equal(t, "mcp.server.updated", dead[0].Subject)

	// The worker wrote the audit trail of the grant and the revoke, and
	// worker_ops reads it (worker audit).
	var trail []string
	require.NoError(t, events.ReadAudit(ctx, opsJS, cfg.eventsConfig(), events.AuditQuery{Server: "beta"},
		func(r events.AuditRecord) error {
			trail = append(trail, fmt.Sprintf("%s %s %s>%s v%d", r.Kind, r.User, r.Before, r.After, r.Version))
			return nil
		}), "worker_ops reads the audit stream")
	assert.Equal(t, []string{"grant " + user + " none>member v10", "revoke " + user + " member>none v11"}, trail)

	// The auth service publishes what SECURITY.md grants it, nothing else
	// (below).
	auth, _ := connectAs(t, hostPort, "auth_service")
	authJS, err := jetstream.New(auth)
	require.NoError(t, err)
	for _, subject := range []string{"mcp.user.login", "mcp.user.invalidate"} {
		pctx, done := context.WithTimeout(ctx, 5*time.Second)
		_, err := authJS.Publish(pctx, subject, fmt.Appendf(nil, `{"userId":%q}`, user))
		done()
		require.NoError(t, err, "auth_service publishes %s", subject)
	}
	waitSettled(t, adminJS, cfg)

	// Mcp-Notify naming the JetStream API: the event is handled, the result
	// is not published, the stream stays.
	msg := nats.NewMsg("mcp.user.login")
	msg.Data = fmt.Appendf(nil, `{"userId":%q}`, user)
	msg.Header.Set(events.HeaderNotify, "$JS.API.STREAM.DELETE."+cfg.Stream)
	_, err = pubJS.PublishMsg(ctx, msg)
	require.NoError(t, err)
	waitSettled(t, adminJS, cfg)
	require.Eventually(t, func() bool { return countRefusedNotify(logs) == 1 }, 10*time.Second, 20*time.Millisecond,
		"the worker logged the refused Mcp-Notify")
	_, err = adminJS.Stream(ctx, cfg.Stream)
	require.NoError(t, err, "stream %s still exists", cfg.Stream)
	_, err = apiDeletes.NextMsg(100 * time.Millisecond)
	require.ErrorIs(t, err, nats.ErrTimeout, "nothing was published on $JS.API.STREAM.DELETE.>")

	// The second line: what each documented user must not publish.
	for _, tt := range []struct{ user, subject string }{
		{"worker", "$JS.API.STREAM.DELETE." + cfg.Stream},
		{"worker", "$JS.API.STREAM.PURGE." + cfg.Stream},
		{"worker", "$JS.API.CONSUMER.DELETE." + cfg.Stream + "." + cfg.Consumer},
		// The worker may publish events: parked events go back on their own
		// subjects (docs/events.md "Parking"); it owns Redis, the only thing
		// events change, so that gives it nothing more.
		{"auth_service", "mcp.server.access"},
		{"auth_service", "mcp.dlq.user.login"},
		{"admin_service", "mcp.dlq.server.access"},
		{"admin_service", "$JS.API.STREAM.DELETE." + cfg.Stream},
		{"worker_ops", "$JS.API.STREAM.DELETE." + cfg.Stream},
		{"worker_ops", "mcp.dlq.server.access"},
		{"admin_service", "mcp.audit._.Kg"},
		{"worker_ops", "mcp.audit._.Kg"},
		{"worker_ops", "$JS.API.STREAM.PURGE." + cfg.AuditStream},
	} {
		t.Run(tt.user+"/"+tt.subject, func(t *testing.T) {
			nc, errs := connectAs(t, hostPort, tt.user)
			requireDenied(t, nc, errs, tt.subject)
		})
	}
	for _, name := range []string{cfg.Stream, cfg.DLQStream} {
		_, err := adminJS.Stream(ctx, name)
		require.NoError(t, err, "stream %s still exists", name)
	}
	// Nothing was refused on the way: a script denied a command fails after
	// its writes, and the retry finds nothing left to do, so only the ACL
	// log and the retries tell.
	aclLog, err := rdb.Do(ctx, "ACL", "LOG").Slice()
	require.NoError(t, err)
	assert.Empty(t, aclLog, "Redis refused the worker or the reader nothing")
	assert.Empty(t, handledWith(logs, events.OutcomeRetry), "no event needed a retry")
	assert.Empty(t, logsWithPermissionErrors(logs), "no NATS permissions violation")
}

// handledWith returns the "Message handled" log lines with outcome.
func handledWith(logs *lockedBuffer, outcome string) []map[string]any {
	var out []map[string]any
	for _, line := range logLines(logs) {
		if line["msg"] == "Message handled" && line["outcome"] == outcome {
			out = append(out, line)
		}
	}
	return out
}

// countRefusedNotify counts the log lines of a refused Mcp-Notify.
func countRefusedNotify(logs *lockedBuffer) int {
	n := 0
	for _, line := range logLines(logs) {
		if e, ok := line["notify_error"].(string); ok && e != "" {
			n++
		}
	}
	return n
}

// logsWithPermissionErrors returns the log lines that mention a NATS
// permissions violation or a Redis NOPERM error.
func logsWithPermissionErrors(logs *lockedBuffer) []map[string]any {
	var out []map[string]any
	for _, line := range logLines(logs) {
		b, _ := json.Marshal(line)
		s := strings.ToLower(string(b))
		if strings.Contains(s, "permissions violation") || strings.Contains(s, "noperm") {
			out = append(out, line)
		}
	}
	return out
}

// logLines decodes the JSON log lines collected so far.
func logLines(logs *lockedBuffer) []map[string]any {
	var out []map[string]any
	for line := range strings.SplitSeq(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// Every command a registry Lua script calls is in the README's ACL line: a
// script denied one fails after its writes, and nothing but retries and the
// ACL log would say so.
func TestDocumentedACLCoversLuaCommands(t *testing.T) {
	t.Parallel()
	args, _, _ := documentedACL(t)
	allowed := map[string]bool{}
	for _, a := range args {
		if c, ok := strings.CutPrefix(a.(string), "+"); ok {
			allowed[strings.ToLower(c)] = true
		}
	}
	files, err := filepath.Glob("../../internal/registry/lua/*.lua")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	literal := regexp.MustCompile(`redis\.p?call\(\s*'([A-Za-z]+)'`)
	anyCall := regexp.MustCompile(`redis\.p?call\(`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		calls := literal.FindAllStringSubmatch(string(b), -1)
		require.Len(t, calls, len(anyCall.FindAllString(string(b), -1)),
			"%s: every redis.call names its command as a literal, so that this test sees it", f)
		for _, c := range calls {
			assert.True(t, allowed[strings.ToLower(c[1])], "%s calls %s, which the README's ACL line lacks", filepath.Base(f), c[1])
		}
	}
}
