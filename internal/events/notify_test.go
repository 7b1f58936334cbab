package events

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Mcp-Notify is a header any publisher sets: the worker relays results only
// to inboxes (and the configured --notify-prefix), never to $-subjects (the
// JetStream API) or its own subjects, where a result would be an event.
func TestIntegrationNotifyRefusesForeignSubjects(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	r := e.start(allKinds(&recorder{}))
	ctx := ctxT(t)

	inbox := subscribeNotify(t, e.nats.Conn, "_INBOX.test.>")
	refused := []string{
		"$JS.API.STREAM.DELETE." + e.cfg.DLQStream,
		"$SYS.REQ.SERVER.PING",
		"mcp.user.login",
		"mcp.dlq.user.login",
		"mcp.server.deleted",
		"other.reply",
	}
	for _, to := range refused {
		h := nats.Header{}
		h.Set(HeaderNotify, to)
		e.publish("mcp.user.login", `{"userId":"u1"}`, h)
	}
	ok := nats.Header{}
	ok.Set(HeaderNotify, "_INBOX.test.1")
	e.publish("mcp.user.login", `{"userId":"u2","eventId":"e-2"}`, ok)
	assert.Equal(t, "e-2", receive(t, inbox).EventID)
	info := e.waitSettled()
	assert.Equal(t, uint64(len(refused)+1), info.Delivered.Consumer, "no result became an event")

	_, err := e.nats.JS.Stream(ctx, e.cfg.DLQStream)
	require.NoError(t, err, "the dead-letter stream is still there")
	assert.Empty(t, e.deadLetters())
	st, err := e.nats.JS.Stream(ctx, e.cfg.Stream)
	require.NoError(t, err)
	si, err := st.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(len(refused)+1), si.State.Msgs)

	require.Eventually(t, func() bool { return len(handledLines(r.logs)) == len(refused)+1 }, 5*time.Second, 10*time.Millisecond)
	n := 0
	for _, l := range handledLines(r.logs) {
		if err, ok := l.ContextMap()["notify_error"].(string); ok {
			assert.Contains(t, err, "refused")
			n++
		}
	}
	assert.Equal(t, len(refused), n)
	assert.Equal(t, float64(len(refused)), counterValue(t, r.reg, "mcp_worker_notify_refused_total"))
}
