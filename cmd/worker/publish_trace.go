package main

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/telemetry"
)

// publishFlushTimeout bounds the export of the publish span at exit.
const publishFlushTimeout = 5 * time.Second

// publishTracer is the tracer provider of `worker publish`: it exports over
// OTLP when --otlp-endpoint is set; otherwise it records nothing but still
// makes real trace ids, so the event always carries a traceparent and the
// worker's log line shows the trace id that publish printed.
func publishTracer(ctx context.Context, cfg Config) (trace.TracerProvider, func(), error) {
	if cfg.OTLPEndpoint == "" {
		tp := sdktrace.NewTracerProvider(sdktrace.WithResource(telemetry.Resource()))
		return tp, func() { _ = tp.Shutdown(context.Background()) }, nil
	}
	tr, err := telemetry.NewTracing(ctx, cfg.OTLPEndpoint)
	if err != nil {
		return nil, nil, err
	}
	return tr.Provider, func() {
		fctx, cancel := context.WithTimeout(context.Background(), publishFlushTimeout)
		defer cancel()
		_ = tr.Shutdown(fctx)
	}, nil
}

// publishTraced publishes one event inside a producer span "publish
// <kind>", whose context the publisher writes as the traceparent header. It
// returns the event id, the PubAck and the trace id.
func publishTraced(ctx context.Context, tp trace.TracerProvider, pub *events.Publisher, suffix string,
	payload []byte, header nats.Header, force bool,
) (string, *jetstream.PubAck, string, error) {
	ctx, span := tp.Tracer(tracerName).Start(ctx, "publish "+suffix,
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.operation.type", "send"),
			attribute.String("mcp.event.kind", suffix),
		))
	defer span.End()
	id, ack, err := pub.Publish(ctx, suffix, payload, header, force)
	if err != nil {
		span.SetStatus(codes.Error, "publish failed")
		return id, nil, "", err
	}
	span.SetAttributes(attribute.Int64("messaging.nats.stream_seq", int64(ack.Sequence)))
	return id, ack, span.SpanContext().TraceID().String(), nil
}
