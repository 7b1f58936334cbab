package events

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mcp-registry/worker/internal/testenv"
)

// testConfig is a provisioned config with short timings for tests.
func testConfig() Config {
	c := DefaultConfig()
	c.Concurrency = 4
	c.AckWait = time.Second
	c.HandlerTimeout = 5 * time.Second
	c.MaxAckPending = 100
	c.Retry = RetryPolicy{MaxDeliver: 3, BaseDelay: 100 * time.Millisecond, MaxDelay: 400 * time.Millisecond, BusyMaxDeliver: 50}
	return c
}

// env is one test's NATS server with provisioned streams.
type env struct {
	t    *testing.T
	nats *testenv.NATS
	cfg  Config
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	n := testenv.StartNATS(t)
	require.NoError(t, Provision(ctxT(t), n.JS, cfg))
	return &env{t: t, nats: n, cfg: cfg}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// replica is one started Consumer with its observed log and metrics.
type replica struct {
	c       *Consumer
	logs    *observer.ObservedLogs
	metrics *Metrics
	reg     *prometheus.Registry
}

// start runs a Consumer on its own connection (a replica) and stops it at
// cleanup.
func (e *env) start(handlers map[Kind]Handler, tweak ...func(*Consumer)) *replica {
	e.t.Helper()
	nc := e.nats.Connect(e.t)
	js, err := jetstream.New(nc)
	require.NoError(e.t, err)
	core, logs := observer.New(zapcore.DebugLevel)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	c, err := NewConsumer(ConsumerParams{JS: js, Conn: nc, Config: e.cfg, Handlers: handlers, Logger: zap.New(core), Metrics: m})
	require.NoError(e.t, err)
	c.lookupDelay = 50 * time.Millisecond
	for _, f := range tweak {
		f(c)
	}
	require.NoError(e.t, c.Start(ctxT(e.t)))
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
	return &replica{c: c, logs: logs, metrics: m, reg: reg}
}

// publish JetStream-publishes raw data with headers (no validation).
func (e *env) publish(subject string, data string, hdr nats.Header) uint64 {
	e.t.Helper()
	ack, err := e.nats.JS.PublishMsg(ctxT(e.t), &nats.Msg{Subject: subject, Data: []byte(data), Header: hdr})
	require.NoError(e.t, err)
	return ack.Sequence
}

// consumerInfo reads the durable consumer's state.
func (e *env) consumerInfo() *jetstream.ConsumerInfo {
	e.t.Helper()
	cons, err := e.nats.JS.Consumer(ctxT(e.t), e.cfg.Stream, e.cfg.Consumer)
	require.NoError(e.t, err)
	info, err := cons.Info(ctxT(e.t))
	require.NoError(e.t, err)
	return info
}

// waitSettled waits until every message of the stream is acknowledged.
func (e *env) waitSettled() *jetstream.ConsumerInfo {
	e.t.Helper()
	var info *jetstream.ConsumerInfo
	require.Eventually(e.t, func() bool {
		info = e.consumerInfo()
		return info.NumAckPending == 0 && info.NumPending == 0
	}, 30*time.Second, 20*time.Millisecond)
	return info
}

// deadLetters lists the dead-letter stream.
func (e *env) deadLetters() []DeadLetter {
	e.t.Helper()
	dls, err := ListDeadLetters(ctxT(e.t), e.nats.JS, e.cfg, 0)
	require.NoError(e.t, err)
	return dls
}

// waitDeadLetters waits until the dead-letter stream holds n messages.
func (e *env) waitDeadLetters(n int) []DeadLetter {
	e.t.Helper()
	var dls []DeadLetter
	require.Eventually(e.t, func() bool {
		dls = e.deadLetters()
		return len(dls) >= n
	}, 30*time.Second, 20*time.Millisecond)
	require.Len(e.t, dls, n)
	return dls
}

// call is one handler invocation seen by a recorder.
type call struct {
	ev  Event
	at  time.Time
	err error
}

// recorder is a Handler that records calls and answers with fn.
type recorder struct {
	mu    sync.Mutex
	calls []call
	fn    func(ctx context.Context, ev Event) error
}

func (r *recorder) Handle(ctx context.Context, ev Event) error {
	var err error
	if r.fn != nil {
		err = r.fn(ctx, ev)
	}
	r.mu.Lock()
	r.calls = append(r.calls, call{ev: ev, at: time.Now(), err: err})
	r.mu.Unlock()
	return err
}

func (r *recorder) seen() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

func (r *recorder) waitCalls(t *testing.T, n int) []call {
	t.Helper()
	require.Eventually(t, func() bool { return len(r.seen()) >= n }, 30*time.Second, 10*time.Millisecond)
	return r.seen()
}

// allKinds maps every kind to h.
func allKinds(h Handler) map[Kind]Handler {
	m := map[Kind]Handler{}
	for _, k := range Kinds {
		m[k] = h
	}
	return m
}

// subscribeNotify collects Notifications published on subject.
func subscribeNotify(t *testing.T, nc *nats.Conn, subject string) chan Notification {
	t.Helper()
	ch := make(chan Notification, 16)
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		var n Notification
		if json.Unmarshal(m.Data, &n) == nil {
			ch <- n
		}
	})
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return ch
}

func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received within 10s")
		panic("unreachable")
	}
}

// handledLines returns the "Message handled" log entries.
func handledLines(logs *observer.ObservedLogs) []observer.LoggedEntry {
	return logs.FilterMessage("Message handled").AllUntimed()
}
