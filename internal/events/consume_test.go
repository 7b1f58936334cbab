package events

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"
)

func TestIntegrationValidMessageIsHandledAndAcked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	rec := &recorder{}
	r := e.start(allKinds(rec))

	seq := e.publish("mcp.user.login", `{"userId":"u1","eventId":"e1"}`, nil)
	seq2 := e.publish("mcp.server.updated",
		`{"serverName":"s1","config":{"url":"https://x","apiKey":"SECRET-VALUE-42"},"version":7}`, nil)

	calls := rec.waitCalls(t, 2)
	info := e.waitSettled()
	assert.Equal(t, 0, info.NumRedelivered)
	assert.Equal(t, seq2, info.AckFloor.Stream)

	bySeq := map[uint64]Event{}
	for _, c := range calls {
		bySeq[c.ev.StreamSeq] = c.ev
	}
	login := bySeq[seq]
	assert.Equal(t, KindUserLogin, login.Kind)
	assert.Equal(t, "u1", login.UserID)
	assert.Equal(t, "e1", login.EventID)
	assert.Equal(t, uint64(1), login.Delivered)
	assert.Equal(t, int64(seq), login.Version, "version defaults to the stream sequence")
	upd := bySeq[seq2]
	assert.Equal(t, "s1", upd.ServerName)
	assert.Equal(t, int64(7), upd.Version)

	// One line per message, at debug (info has the periodic summary), with
	// the edge fields; never the config.
	require.Eventually(t, func() bool { return len(handledLines(r.logs)) == 2 }, 5*time.Second, 10*time.Millisecond)
	for _, l := range handledLines(r.logs) {
		assert.Equal(t, zapcore.DebugLevel, l.Level)
		f := l.ContextMap()
		assert.Equal(t, OutcomeDone, f["outcome"])
		for _, k := range []string{"subject", "stream_seq", "delivered", "duration"} {
			assert.Contains(t, f, k)
		}
		if f["subject"] == "mcp.user.login" {
			assert.Equal(t, "u1", f["user_id"])
		} else {
			assert.Equal(t, "s1", f["server"])
		}
	}
	for _, l := range r.logs.AllUntimed() {
		assert.NotContains(t, fmt.Sprint(l.Message, l.ContextMap()), "SECRET-VALUE-42")
	}
	assert.Equal(t, 1.0, counterValue(t, r.reg, "mcp_worker_messages_total", "kind", "user.login", "outcome", "done"))
	assert.Equal(t, 1.0, counterValue(t, r.reg, "mcp_worker_messages_total", "kind", "server.updated", "outcome", "done"))
	assert.True(t, r.c.Running())
}

func TestIntegrationPoisonMessagesAreDeadLetteredAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	rec := &recorder{}
	handlers := allKinds(rec)
	delete(handlers, KindServerDeleted)
	r := e.start(handlers)

	poison := []struct {
		subject, data, reason string
	}{
		{"mcp.user.login", `not json`, "not valid JSON"},
		{"mcp.user.bogus", `{"userId":"u1"}`, `unknown subject "mcp.user.bogus"`},
		{"mcp.server.updated", `{"serverName":"s1"}`, `"config"`},
		{"mcp.server.deleted", `{"serverName":"s1"}`, "no handler for server.deleted"},
	}
	seqs := map[uint64]int{}
	for i, p := range poison {
		hdr := nats.Header{}
		hdr.Set("X-Trace", fmt.Sprintf("trace-%d", i))
		hdr.Add("X-Multi", "a")
		hdr.Add("X-Multi", "b")
		hdr.Set(HeaderMsgID, fmt.Sprintf("id-%d", i))
		seqs[e.publish(p.subject, p.data, hdr)] = i
	}
	good := e.publish("mcp.user.login", `{"userId":"u2"}`, nil)

	calls := rec.waitCalls(t, 1)
	dls := e.waitDeadLetters(len(poison))
	info := e.waitSettled()
	assert.Equal(t, uint64(len(poison)+1), info.Delivered.Consumer, "a poison message is never redelivered")
	assert.Equal(t, good, info.AckFloor.Stream)
	require.Len(t, calls, 1)
	assert.Equal(t, "u2", calls[0].ev.UserID)

	for _, dl := range dls {
		i, ok := seqs[dl.StreamSeq]
		require.True(t, ok, "dead letter of stream seq %d", dl.StreamSeq)
		p := poison[i]
		assert.Equal(t, p.subject, dl.Subject)
		assert.Contains(t, dl.Reason, p.reason)
		assert.Equal(t, uint64(1), dl.Delivered)
		assert.Equal(t, p.data, string(dl.Data))
		assert.Equal(t, fmt.Sprintf("trace-%d", i), dl.Original.Get("X-Trace"))
		assert.Equal(t, []string{"a", "b"}, dl.Original.Values("X-Multi"))
		assert.Equal(t, fmt.Sprintf("id-%d", i), dl.Original.Get(HeaderMsgID))
		assert.Equal(t, fmt.Sprintf("id-%d", i), dl.Header.Get(HeaderDLQMsgID))
		assert.Equal(t, fmt.Sprintf("dlq:%s:%d", e.cfg.Stream, dl.StreamSeq), dl.Header.Get(HeaderMsgID))
		assert.Equal(t, p.subject, dl.Header.Get(HeaderDLQSubject))
		assert.WithinDuration(t, time.Now(), dl.Time, time.Minute)
		_, err := time.Parse(time.RFC3339, dl.Header.Get(HeaderDLQTime))
		assert.NoError(t, err)
	}
	// Dead-letter subjects keep the original one's tail.
	subjects, err := e.nats.JS.Stream(ctxT(t), e.cfg.DLQStream)
	require.NoError(t, err)
	si, err := subjects.Info(ctxT(t))
	require.NoError(t, err)
	assert.Equal(t, uint64(len(poison)), si.State.Msgs)

	require.Eventually(t, func() bool { return len(handledLines(r.logs)) == len(poison)+1 }, 5*time.Second, 10*time.Millisecond)
	errLines := 0
	for _, l := range handledLines(r.logs) {
		if l.Level == zapcore.ErrorLevel {
			errLines++
			assert.Equal(t, OutcomeDeadLettered, l.ContextMap()["outcome"])
			assert.NotEmpty(t, l.ContextMap()["error"])
		}
	}
	assert.Equal(t, len(poison), errLines)
	assert.Equal(t, 1.0, counterValue(t, r.reg, "mcp_worker_dead_letters_total", "kind", "unknown"))
	assert.Equal(t, 1.0, counterValue(t, r.reg, "mcp_worker_dead_letters_total", "kind", "server.deleted"))
}

func TestIntegrationTransientErrorIsRetriedThenDeadLettered(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	rec := &recorder{fn: func(context.Context, Event) error { return errors.New("redis down") }}
	r := e.start(allKinds(rec))

	e.publish("mcp.user.login", `{"userId":"u1"}`, nil)
	dls := e.waitDeadLetters(1)
	calls := rec.seen()
	require.Len(t, calls, 3, "MaxDeliver deliveries")
	for i, c := range calls {
		assert.Equal(t, uint64(i+1), c.ev.Delivered)
	}
	// NakWithDelay with a growing delay: 100ms, then 200ms, each jittered
	// down by at most a quarter.
	gap1, gap2 := calls[1].at.Sub(calls[0].at), calls[2].at.Sub(calls[1].at)
	assert.GreaterOrEqual(t, gap1, 70*time.Millisecond)
	assert.GreaterOrEqual(t, gap2, 140*time.Millisecond)
	assert.Less(t, gap1, 900*time.Millisecond, "redelivered by the nak, not by AckWait")

	assert.Contains(t, dls[0].Reason, "gave up after 3 deliveries")
	assert.Contains(t, dls[0].Reason, "redis down")
	assert.Equal(t, uint64(3), dls[0].Delivered)
	e.waitSettled()

	lines := handledLines(r.logs)
	require.Len(t, lines, 3)
	assert.Equal(t, zapcore.DebugLevel, lines[0].Level, "each retry at debug")
	assert.Equal(t, OutcomeRetry, lines[0].ContextMap()["outcome"])
	assert.Equal(t, zapcore.ErrorLevel, lines[2].Level, "a dead letter always at error")
	retried := r.logs.FilterMessageSnippet("Messages retried").AllUntimed()
	require.Len(t, retried, 1, "one rate-limited warning for both retries")
	assert.Equal(t, zapcore.WarnLevel, retried[0].Level)
	assert.Contains(t, retried[0].ContextMap()["error"], "redis down")
	assert.Equal(t, 2.0, counterValue(t, r.reg, "mcp_worker_messages_total", "kind", "user.login", "outcome", "retry"))
}

func TestIntegrationBusyIsRetriedAfterItsShortDelay(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Retry.BaseDelay = 2 * time.Second // a busy retry must not wait for it
	cfg.Retry.MaxDelay = 4 * time.Second
	e := newEnv(t, cfg)
	rec := &recorder{fn: func(_ context.Context, ev Event) error {
		if ev.Delivered < 3 {
			return Busy(50*time.Millisecond, "login in progress")
		}
		return nil
	}}
	e.start(allKinds(rec))

	start := time.Now()
	e.publish("mcp.user.login", `{"userId":"u1"}`, nil)
	calls := rec.waitCalls(t, 3)
	e.waitSettled()
	assert.Less(t, time.Since(start), 1500*time.Millisecond)
	assert.GreaterOrEqual(t, calls[1].at.Sub(calls[0].at), 35*time.Millisecond, "50ms, jittered down by at most a quarter")
	assert.NoError(t, calls[2].err)
	assert.Empty(t, e.deadLetters())
}

func TestIntegrationSlowHandlerIsKeptAliveWithInProgress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig()) // AckWait 1s
	rec := &recorder{fn: func(ctx context.Context, _ Event) error {
		select {
		case <-time.After(2500 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	e.start(allKinds(rec))

	e.publish("mcp.user.login", `{"userId":"u1"}`, nil)
	rec.waitCalls(t, 1)
	info := e.waitSettled()
	// Delivered.Consumer counts every delivery, redeliveries included.
	assert.Equal(t, uint64(1), info.Delivered.Consumer, "not redelivered while the handler ran")
	calls := rec.seen()
	require.Len(t, calls, 1)
	assert.NoError(t, calls[0].err)
	assert.Equal(t, uint64(1), calls[0].ev.Delivered)
}

func TestIntegrationNotifyResults(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.NotifyPrefix = "reply"
	e := newEnv(t, cfg)
	rec := &recorder{fn: func(_ context.Context, ev Event) error {
		switch ev.UserID {
		case "stale":
			return Skipf("version 3 is older than 5")
		case "flaky":
			if ev.Delivered == 1 {
				return errors.New("mongo down")
			}
		}
		return nil
	}}
	e.start(allKinds(rec))
	results := subscribeNotify(t, e.nats.Conn, "reply.test")
	hdr := nats.Header{}
	hdr.Set(HeaderNotify, "reply.test")

	e.publish("mcp.user.login", `{"userId":"u1","eventId":"e-done"}`, hdr)
	assert.Equal(t, Notification{EventID: "e-done", Subject: "mcp.user.login", Outcome: OutcomeDone}, receive(t, results))

	e.publish("mcp.user.login", `{"userId":"stale","eventId":"e-skip"}`, hdr)
	assert.Equal(t, Notification{EventID: "e-skip", Subject: "mcp.user.login", Outcome: OutcomeSkipped}, receive(t, results))

	// A retry notifies nothing; the final success does, once.
	e.publish("mcp.user.login", `{"userId":"flaky","eventId":"e-retry"}`, hdr)
	assert.Equal(t, Notification{EventID: "e-retry", Subject: "mcp.user.login", Outcome: OutcomeDone}, receive(t, results))

	bad := nats.Header{}
	bad.Set(HeaderNotify, "reply.test")
	bad.Set(HeaderMsgID, "e-bad")
	e.publish("mcp.user.login", `{"userId":""}`, bad)
	n := receive(t, results)
	assert.Equal(t, "e-bad", n.EventID)
	assert.Equal(t, OutcomeDeadLettered, n.Outcome)
	assert.Contains(t, n.Error, "userId")

	e.waitSettled()
	select {
	case extra := <-results:
		t.Fatalf("unexpected notification %+v", extra)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestIntegrationReplicasShareTheDurableConsumer(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Concurrency = 2
	e := newEnv(t, cfg)
	slow := func(ctx context.Context, _ Event) error {
		select {
		case <-time.After(20 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	a, b := &recorder{fn: slow}, &recorder{fn: slow}
	e.start(allKinds(a))
	e.start(allKinds(b))

	const n = 40
	for i := range n {
		e.publish("mcp.user.login", fmt.Sprintf(`{"userId":"u%d"}`, i), nil)
	}
	require.Eventually(t, func() bool { return len(a.seen())+len(b.seen()) >= n }, 15*time.Second, 10*time.Millisecond)
	info := e.waitSettled()
	assert.Equal(t, uint64(n), info.Delivered.Consumer, "each message delivered once")

	seen := map[uint64]int{}
	for _, c := range append(a.seen(), b.seen()...) {
		seen[c.ev.StreamSeq]++
	}
	assert.Len(t, seen, n)
	for seq, times := range seen {
		assert.Equal(t, 1, times, "stream seq %d", seq)
	}
	assert.NotEmpty(t, a.seen(), "replica A got work")
	assert.NotEmpty(t, b.seen(), "replica B got work")
}

func TestIntegrationVanishedConsumerIsLookedUpAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	rec := &recorder{}
	// A short pull expiry: a pull request sent after the delete gets no
	// answer, and the missing heartbeats are noticed within it.
	r := e.start(allKinds(rec), func(c *Consumer) { c.pullExpiry = 2 * time.Second })
	require.Eventually(t, r.c.Running, 5*time.Second, 10*time.Millisecond)

	require.NoError(t, e.nats.JS.DeleteConsumer(ctxT(t), e.cfg.Stream, e.cfg.Consumer))
	require.Eventually(t, func() bool { return !r.c.Running() }, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		return len(r.logs.FilterMessage("Durable consumer unavailable, retrying").AllUntimed()) > 0
	}, 5*time.Second, 10*time.Millisecond)

	require.NoError(t, Provision(ctxT(t), e.nats.JS, e.cfg))
	e.publish("mcp.user.login", `{"userId":"u1"}`, nil)
	calls := rec.waitCalls(t, 1)
	assert.Equal(t, "u1", calls[0].ev.UserID)
	assert.True(t, r.c.Running())
}

func TestIntegrationHandlerPanicIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	rec := &recorder{fn: func(_ context.Context, ev Event) error {
		if ev.Delivered == 1 {
			panic("boom")
		}
		return nil
	}}
	r := e.start(allKinds(rec))
	e.publish("mcp.user.login", `{"userId":"u1"}`, nil)
	rec.waitCalls(t, 1) // the retry (the panicking call is not recorded)
	e.waitSettled()
	require.Eventually(t, func() bool { return len(handledLines(r.logs)) == 2 }, 5*time.Second, 10*time.Millisecond)
	lines := handledLines(r.logs)
	assert.True(t, strings.Contains(lines[0].ContextMap()["error"].(string), "handler panic: boom"))
	assert.Equal(t, OutcomeDone, lines[1].ContextMap()["outcome"])
}
