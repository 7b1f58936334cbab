package events

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mcp-registry/worker/internal/testenv"
)

// fuzzBound is how long one message may take to end (acked or dead-lettered).
const fuzzBound = 5 * time.Second

// fuzzNotifyPrefix is the notify prefix of the fuzzed consumer.
const fuzzNotifyPrefix = "fuzz.notify"

// Handler results the fuzzer picks (mode % len).
var fuzzModes = []func() error{
	func() error { return nil },
	func() error { return errors.New("transient") },
	func() error { return Permanentf("permanent") },
	func() error { return Busy(10*time.Millisecond, "busy") },
	func() error { return Skipf("stale") },
	func() error { panic("handler panic") },
}

// wholeMessage is one fuzz process's JetStream server, running consumer and
// `>` spy, shared by every input: one stream and one consumer, each input
// tracked by its stream sequence.
type wholeMessage struct {
	cfg    Config
	js     jetstream.JetStream // the publisher's (and the checks')
	worker *nats.Conn          // the consumer's connection
	spy    chan *nats.Msg      // every message on `>`
	spyNC  *nats.Conn
	logs   *observer.ObservedLogs
	mode   atomic.Int32
}

func newWholeMessage(f *testing.F) *wholeMessage {
	n := testenv.StartNATS(f)
	cfg := testConfig()
	cfg.NotifyPrefix = fuzzNotifyPrefix
	cfg.Retry = RetryPolicy{MaxDeliver: 3, BaseDelay: 20 * time.Millisecond, MaxDelay: 80 * time.Millisecond, BusyMaxDeliver: 4}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(f, Provision(ctx, n.JS, cfg))

	w := &wholeMessage{cfg: cfg, js: n.JS, spy: make(chan *nats.Msg, 1<<16)}
	w.spyNC = n.Connect(f)
	_, err := w.spyNC.ChanSubscribe(">", w.spy)
	require.NoError(f, err)
	require.NoError(f, w.spyNC.Flush())

	w.worker = n.Connect(f)
	js, err := jetstream.New(w.worker)
	require.NoError(f, err)
	core, logs := observer.New(zapcore.DebugLevel)
	w.logs = logs
	handler := HandlerFunc(func(context.Context, Event) error { return fuzzModes[w.mode.Load()]() })
	c, err := NewConsumer(ConsumerParams{JS: js, Conn: w.worker, Config: cfg, Handlers: allKinds(handler), Logger: zap.New(core)})
	require.NoError(f, err)
	require.NoError(f, c.Start(ctx))
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
	return w
}

// fuzzHeaderKey reports whether k can be sent as a header name (printable
// ASCII without ':' or space): anything else is the publisher's protocol
// error, not the worker's input.
func fuzzHeaderKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// fuzzHeaders builds the message's headers from the fuzzer's pairs, a
// Mcp-Notify target and a value of huge bytes; ok is false when a header
// cannot be sent at all.
func fuzzHeaders(kv []string, notify string, huge uint16) (nats.Header, bool) {
	h := nats.Header{}
	if huge > 0 {
		kv = append(kv, "X-Huge", strings.Repeat("h", int(huge)))
	}
	if notify != "" {
		kv = append(kv, HeaderNotify, notify)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		if k == "" && v == "" {
			continue
		}
		if !fuzzHeaderKey(k) || strings.ContainsAny(v, "\r\n") {
			return nil, false
		}
		h[k] = append(h[k], v)
	}
	return h, true
}

// FuzzWholeMessage publishes whole messages (subject, headers, payload) to a
// real JetStream and consumes them with the real consume loop and a handler
// that fails the way the fuzzer says. Every message must end within
// fuzzBound: acknowledged, or dead-lettered exactly once; and nothing may
// be published outside the worker's subjects (its prefix, _INBOX, the
// notify prefix, its JetStream API calls and acks).
func FuzzWholeMessage(f *testing.F) {
	login := `{"userId":"u1"}`
	access := `{"serverName":"s1","allowedUserIds":["u1"],"config":{},"version":3}`
	f.Add(uint8(0), "user.login", "", "", "", "", "", uint8(0), uint16(0), []byte(login))
	f.Add(uint8(0), "user.login", "Nats-Msg-Id", "m1", "", "", "_INBOX.x", uint8(0), uint16(0), []byte(login))
	f.Add(uint8(1), "server.access", "", "", "", "", "$JS.API.STREAM.DELETE.MCP_REGISTRY", uint8(0), uint16(0), []byte(access))
	f.Add(uint8(1), "server.access", "", "", "", "", "mcp.user.login", uint8(0), uint16(0), []byte(access))
	f.Add(uint8(1), "server.access", "", "", "", "", "fuzz.notify.a", uint8(2), uint16(0), []byte(access))
	f.Add(uint8(1), "server.access", "", "", "", "", "elsewhere.x", uint8(1), uint16(0), []byte(access))
	f.Add(uint8(0), "user.nothing.yet", "Nats-Expected-Last-Subject-Sequence", "0", "Nats-Expected-Stream", "MCP_REGISTRY", "_INBOX.y", uint8(1), uint16(0), []byte(login))
	f.Add(uint8(0), "user.login", "Nats-Expected-Stream", "MCP_REGISTRY", "Nats-Msg-Id", "m7", "", uint8(3), uint16(0), []byte(login))
	f.Add(uint8(0), "user.renamed", "Mcp-Dlq-Reason", "forged", "Mcp-Dlq-Stream-Seq", "1", "", uint8(0), uint16(0), []byte(login))
	f.Add(uint8(1), "server.updated", "X-A", "1", "X-A", "2", "_INBOX.z", uint8(4), uint16(4000), []byte(`{"serverName":"s1","config":"no"}`))
	f.Add(uint8(0), "user.login", "", "", "", "", "_INBOX.big", uint8(5), uint16(60000), []byte(login))
	f.Add(uint8(1), "server.deleted", "", "", "", "", "", uint8(1), uint16(0), []byte(strings.Repeat(`{"a":`, 300)))

	w := newWholeMessage(f)
	f.Fuzz(func(t *testing.T, family uint8, suffix, k1, v1, k2, v2, notify string, mode uint8, huge uint16, payload []byte) {
		subject := w.cfg.Prefix + ".user." + suffix
		if family%2 == 1 {
			subject = w.cfg.Prefix + ".server." + suffix
		}
		if !validSubject(subject) {
			t.Skip("not a subject one can publish to")
		}
		hdr, ok := fuzzHeaders([]string{k1, v1, k2, v2}, notify, huge)
		if !ok {
			t.Skip("headers the protocol cannot carry")
		}
		w.check(t, &nats.Msg{Subject: subject, Header: hdr, Data: payload}, int32(int(mode)%len(fuzzModes)))
	})
}

// check publishes msg, waits for it to end and checks what happened.
func (w *wholeMessage) check(t *testing.T, msg *nats.Msg, mode int32) {
	ctx, cancel := context.WithTimeout(context.Background(), fuzzBound+5*time.Second)
	defer cancel()
	w.mode.Store(mode)
	w.settle(t)
	dlqBefore := w.dlqCount(ctx, t)
	ack, err := w.js.PublishMsg(ctx, msg)
	if err != nil || ack.Duplicate {
		w.settle(t) // refused by JetStream (Nats-Expected-*, size, ...) or deduplicated: not the worker's input
		t.Skipf("not stored: %v", err)
	}
	seq := ack.Sequence

	// The one log line of the message's final delivery.
	var final observer.LoggedEntry
	deadline := time.Now().Add(fuzzBound)
	for {
		if e, ok := finalLine(w.logs, seq); ok {
			final = e
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %d did not end within %s: %v", seq, fuzzBound, w.logs.AllUntimed())
		}
		time.Sleep(2 * time.Millisecond)
	}
	outcome := final.ContextMap()["outcome"]
	require.Contains(t, []any{OutcomeDone, OutcomeSkipped, OutcomeDeadLettered}, outcome, "message %d: %v", seq, final.ContextMap())

	// Nothing pending: not handed back, not redelivered.
	require.Eventually(t, func() bool {
		info := w.consumerInfo(t)
		return info.NumAckPending == 0 && info.NumPending == 0 && info.AckFloor.Stream >= seq
	}, fuzzBound, 2*time.Millisecond, "message %d still pending after its final outcome", seq)

	wantDLQ := 0
	if outcome == OutcomeDeadLettered {
		wantDLQ = 1
	}
	require.Equal(t, dlqBefore+uint64(wantDLQ), w.dlqCount(ctx, t), "dead-letter entries of message %d (%s)", seq, outcome)

	// Every message the worker published has reached the spy: the worker's
	// connection flushed, then the spy's.
	require.NoError(t, w.worker.Flush())
	require.NoError(t, w.spyNC.Flush())
	dlqPublishes, events := 0, 0
	for len(w.spy) > 0 {
		m := <-w.spy
		switch {
		case strings.HasPrefix(m.Reply, "$JS.ACK."):
			// a delivery of a stream message to the consumer's pull inbox
		case m.Subject == msg.Subject:
			events++
		case strings.HasPrefix(m.Subject, w.cfg.Prefix+".dlq."):
			require.Equal(t, strconv.FormatUint(seq, 10), m.Header.Get(HeaderDLQStreamSeq), "dead letter of another message")
			dlqPublishes++
		default:
			require.True(t, w.allowedSubject(m.Subject), "message %d (Mcp-Notify %q): the worker published on %q",
				seq, msg.Header.Get(HeaderNotify), m.Subject)
		}
	}
	require.Equal(t, 1, events, "the event's subject carried the event only (no Mcp-Notify result under the prefix)")
	require.Equal(t, wantDLQ, dlqPublishes, "dead-letter publishes of message %d", seq)
}

// allowedSubject reports whether the worker may publish on s: request
// inboxes, the notify prefix, acks and the JetStream API calls of a consumer.
func (w *wholeMessage) allowedSubject(s string) bool {
	for _, p := range []string{
		InboxPrefix + ".", fuzzNotifyPrefix + ".", "$JS.ACK." + w.cfg.Stream + ".", "$JS.EVENT.",
		"$JS.API.CONSUMER.INFO.", "$JS.API.CONSUMER.MSG.NEXT.", "$JS.API.STREAM.INFO.",
	} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// finalLine returns the "Message handled" line of seq with a final outcome.
func finalLine(logs *observer.ObservedLogs, seq uint64) (observer.LoggedEntry, bool) {
	for _, e := range logs.FilterMessage("Message handled").FilterField(zap.Uint64("stream_seq", seq)).AllUntimed() {
		if e.ContextMap()["outcome"] != OutcomeRetry {
			return e, true
		}
	}
	return observer.LoggedEntry{}, false
}

// settle waits until the consumer has nothing pending, then forgets the
// logs and the spied messages of what came before.
func (w *wholeMessage) settle(t *testing.T) {
	require.Eventually(t, func() bool {
		info := w.consumerInfo(t)
		return info.NumAckPending == 0 && info.NumPending == 0
	}, fuzzBound, 2*time.Millisecond, "consumer settled")
	require.NoError(t, w.worker.Flush())
	require.NoError(t, w.spyNC.Flush())
	w.logs.TakeAll()
	for len(w.spy) > 0 {
		<-w.spy
	}
}

func (w *wholeMessage) consumerInfo(t *testing.T) *jetstream.ConsumerInfo {
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	cons, err := w.js.Consumer(ctx, w.cfg.Stream, w.cfg.Consumer)
	require.NoError(t, err)
	info, err := cons.Info(ctx)
	require.NoError(t, err)
	return info
}

// dlqCount is the number of messages the dead-letter stream holds.
func (w *wholeMessage) dlqCount(ctx context.Context, t *testing.T) uint64 {
	st, err := w.js.Stream(ctx, w.cfg.DLQStream)
	require.NoError(t, err)
	info, err := st.Info(ctx)
	require.NoError(t, err)
	return info.State.Msgs
}
