package events

import (
	"context"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracerName is the instrumentation scope of the consume loop's spans.
const TracerName = "github.com/mcp-registry/worker/internal/events"

// HeaderTraceparent is the W3C trace-context header a publisher may set; the
// handler's span continues that trace.
const HeaderTraceparent = "traceparent"

// propagator is W3C trace context, the only format read or written.
var propagator = propagation.TraceContext{}

// HeaderCarrier adapts a nats.Header to OpenTelemetry propagation. Unlike
// http.Header, nats.Header keys are case-sensitive: the carrier keeps them
// exactly as written ("traceparent", lower case).
type HeaderCarrier nats.Header

// Get returns the first value of key.
func (c HeaderCarrier) Get(key string) string {
	if v := c[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set replaces the values of key.
func (c HeaderCarrier) Set(key, value string) { c[key] = []string{value} }

// Keys lists the header names.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// InjectTrace writes the span context of ctx into header as traceparent
// (and tracestate). It does nothing when ctx holds no valid span context or
// header is nil.
func InjectTrace(ctx context.Context, header nats.Header) {
	if header == nil || !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	propagator.Inject(ctx, HeaderCarrier(header))
}

// telemetry starts and ends what the consume loop records per message
// beyond the log line and the message metrics: the event's scope in the
// context and, when a tracer is given, the handler's span.
type telemetry struct {
	tracer  trace.Tracer // nil: tracing off, no span is made
	metrics *Metrics
}

// newTelemetry returns the consume loop's telemetry. A nil or no-op tracer
// provider turns tracing off: then no span is allocated per message.
func newTelemetry(tp trace.TracerProvider, m *Metrics) telemetry {
	t := telemetry{metrics: m}
	if _, isNoop := tp.(noop.TracerProvider); tp != nil && !isNoop {
		t.tracer = tp.Tracer(TracerName)
	}
	return t
}

// msgTelemetry is one message's: its span (nil when tracing is off), its
// scope and its trace id for the log line ("" when none).
type msgTelemetry struct {
	span    trace.Span
	scope   *eventScope
	metrics *Metrics
	traceID string
}

// start puts the message's event scope in ctx and, when tracing is on,
// starts the handler's span as a child of the message's traceparent (a new
// root without one). With tracing off, the trace id of an incoming
// traceparent still reaches the log line.
func (t telemetry) start(ctx context.Context, kind string, msg jetstream.Msg) (context.Context, msgTelemetry) {
	ctx, scope := withScope(ctx, kind)
	mt := msgTelemetry{scope: scope, metrics: t.metrics}
	hdr := msg.Headers()
	if t.tracer == nil {
		if hdr.Get(HeaderTraceparent) != "" {
			if sc := trace.SpanContextFromContext(propagator.Extract(ctx, HeaderCarrier(hdr))); sc.IsValid() {
				mt.traceID = sc.TraceID().String()
			}
		}
		return ctx, mt
	}
	if hdr != nil {
		ctx = propagator.Extract(ctx, HeaderCarrier(hdr))
	}
	ctx, mt.span = t.tracer.Start(ctx, "process "+kind,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.destination.name", msg.Subject()),
			attribute.String("mcp.event.kind", kind),
		))
	if sc := mt.span.SpanContext(); sc.IsValid() {
		mt.traceID = sc.TraceID().String()
	}
	return ctx, mt
}

// end records the fan-out the flow reported and ends the span with the
// message's outcome: an error status when it was retried or dead-lettered.
func (mt msgTelemetry) end(h *handled) {
	mt.metrics.fanout(mt.scope)
	if mt.span == nil {
		return
	}
	mt.span.SetAttributes(
		attribute.String("mcp.outcome", h.outcome),
		attribute.Int64("messaging.nats.delivered", int64(h.ev.Delivered)),
	)
	if h.decision.Reason != "" && h.outcome != OutcomeDone && h.outcome != OutcomeSkipped {
		mt.span.SetStatus(codes.Error, h.decision.Reason)
	}
	mt.span.End()
}
