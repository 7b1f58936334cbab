package events

import (
	"context"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// A publish inside a span sets traceparent; the consume loop's span
// continues that trace, the handler's own spans are its children, the log
// line carries the trace id and the fan-out the flow reported is observed.
func TestIntegrationTracingContinuesTraceparent(t *testing.T) {
	e := newEnv(t, testConfig())
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	var kind string
	handler := HandlerFunc(func(ctx context.Context, _ Event) error {
		kind = KindLabel(ctx)
		_, span := tp.Tracer("test").Start(ctx, "flow work")
		span.End()
		CountFanout(ctx, 3, 1)
		CountFanout(ctx, 2, 0)
		return nil
	})
	r := e.start(map[Kind]Handler{KindServerAccess: handler}, func(c *Consumer) {
		c.telemetry = newTelemetry(tp, c.metrics)
	})

	ctx, pub := tp.Tracer("test").Start(ctxT(t), "publish", trace.WithSpanKind(trace.SpanKindProducer))
	_, _, err := NewPublisher(e.nats.JS, e.cfg).Publish(ctx, "server.access",
		[]byte(`{"serverName":"s","allowedUserIds":["u"],"config":{},"version":1}`), nil, false)
	require.NoError(t, err)
	pub.End()
	e.waitSettled()

	spans := map[string]sdktrace.ReadOnlySpan{}
	require.Eventually(t, func() bool {
		for _, s := range rec.Ended() {
			spans[s.Name()] = s
		}
		return len(spans) == 3
	}, 5e9, 1e7)
	process := spans["process server.access"]
	require.NotNil(t, process, "spans: %v", spans)
	assert.Equal(t, pub.SpanContext().SpanID(), process.Parent().SpanID(), "the handler span continues the publish")
	assert.Equal(t, pub.SpanContext().TraceID(), process.SpanContext().TraceID())
	assert.Equal(t, trace.SpanKindConsumer, process.SpanKind())
	assert.Equal(t, process.SpanContext().SpanID(), spans["flow work"].Parent().SpanID(), "the flow's spans are its children")
	assert.Equal(t, "server.access", kind)

	line := r.logs.FilterMessage("Message handled").All()
	require.Len(t, line, 1)
	assert.Equal(t, pub.SpanContext().TraceID().String(), line[0].ContextMap()["trace_id"])

	assert.Equal(t, 2, testutil.CollectAndCount(r.metrics.fanoutUsers), "one histogram per op")
	sums := map[string]float64{}
	families, err := r.reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != "mcp_worker_fanout_users" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" {
					sums[l.GetValue()] = m.GetHistogram().GetSampleSum()
				}
			}
		}
	}
	assert.Equal(t, map[string]float64{"grant": 5, "revoke": 1}, sums, "the event's fan-out, added up")
}

// With tracing off no span is made, yet a publisher's trace id still reaches
// the log line.
func TestIntegrationTracingOffLogsIncomingTraceID(t *testing.T) {
	e := newEnv(t, testConfig())
	r := e.start(map[Kind]Handler{KindUserLogin: HandlerFunc(func(ctx context.Context, _ Event) error {
		if trace.SpanFromContext(ctx).SpanContext().IsValid() {
			t.Error("tracing off: the handler's context holds a span")
		}
		return nil
	})})
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	hdr := nats.Header{}
	hdr.Set(HeaderTraceparent, "00-"+traceID+"-00f067aa0ba902b7-01")
	e.publish(e.cfg.Subjects().For(KindUserLogin), `{"userId":"u"}`, hdr)
	e.publish(e.cfg.Subjects().For(KindUserLogin), `{"userId":"v"}`, nil)
	e.waitSettled()
	lines := r.logs.FilterMessage("Message handled").All()
	require.Len(t, lines, 2)
	ids := []any{lines[0].ContextMap()["trace_id"], lines[1].ContextMap()["trace_id"]}
	assert.ElementsMatch(t, []any{traceID, nil}, ids, "the traced message's line has its id, the other none")
}

func TestInjectTraceIsCaseExact(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("test").Start(context.Background(), "x")
	defer span.End()
	hdr := nats.Header{}
	InjectTrace(ctx, hdr)
	require.Len(t, hdr[HeaderTraceparent], 1, "lower-case key, as W3C and our reader expect: %v", hdr)
	assert.True(t, strings.Contains(hdr[HeaderTraceparent][0], span.SpanContext().TraceID().String()))

	empty := nats.Header{}
	InjectTrace(context.Background(), empty)
	assert.Empty(t, empty, "no span, no header")
}

// stubMsg is the part of a jetstream.Msg that telemetry.start reads.
type stubMsg struct {
	jetstream.Msg
	hdr nats.Header
}

func (m stubMsg) Headers() nats.Header { return m.hdr }
func (m stubMsg) Subject() string      { return "mcp.user.login" }

// The per-message cost of telemetry with tracing off (the default): the
// event scope only, no span. Run: go test -run '^$' -bench Telemetry ./internal/events/
func BenchmarkTelemetryOff(b *testing.B) {
	tel := newTelemetry(nil, nil)
	for _, tc := range []struct {
		name string
		hdr  nats.Header
	}{
		{"no-traceparent", nats.Header{HeaderMsgID: {"id"}}},
		{"traceparent", nats.Header{HeaderTraceparent: {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var msg jetstream.Msg = stubMsg{hdr: tc.hdr}
			ctx := context.Background()
			var h handled
			b.ReportAllocs()
			for b.Loop() {
				_, mt := tel.start(ctx, "user.login", msg)
				mt.end(&h)
			}
		})
	}
}

func BenchmarkTelemetryOn(b *testing.B) {
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tel := newTelemetry(tp, nil)
	var msg jetstream.Msg = stubMsg{hdr: nats.Header{HeaderTraceparent: {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}}
	var h handled
	b.ReportAllocs()
	for b.Loop() {
		_, mt := tel.start(context.Background(), "user.login", msg)
		mt.end(&h)
	}
}
