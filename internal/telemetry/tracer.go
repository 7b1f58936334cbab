package telemetry

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ServiceName is the service.name of the worker's spans (OTEL_SERVICE_NAME,
// read by the SDK, overrides it).
const ServiceName = "mcp-registry-worker"

// Tracing is the process's tracer provider and how to flush it.
type Tracing struct {
	// Provider makes the spans: a no-op provider when nothing is exported.
	Provider trace.TracerProvider
	// Enabled is whether spans are recorded and exported.
	Enabled bool
	// Shutdown flushes and stops the exporter (nil error when disabled).
	Shutdown func(context.Context) error
}

// NewTracing returns a no-op provider when endpoint is empty (no span is
// recorded: the consume loop then makes none), else an SDK provider that
// batches spans to endpoint + /v1/traces over OTLP/HTTP. The SDK and the
// exporter read the standard OTEL_* variables for the rest (service name,
// resource attributes, sampler, headers, timeout, TLS).
func NewTracing(ctx context.Context, endpoint string) (Tracing, error) {
	if endpoint == "" {
		return Tracing{Provider: noop.NewTracerProvider(), Shutdown: func(context.Context) error { return nil }}, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(strings.TrimRight(endpoint, "/")+"/v1/traces"))
	if err != nil {
		return Tracing{}, fmt.Errorf("otlp exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(Resource()))
	return Tracing{Provider: tp, Enabled: true, Shutdown: tp.Shutdown}, nil
}

// Resource is the worker's OpenTelemetry resource: service.name and the
// SDK's defaults, then OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
func Resource() *resource.Resource {
	r, err := resource.Merge(resource.Default(),
		resource.NewSchemaless(semconv.ServiceName(ServiceName)))
	if err != nil {
		return resource.Default()
	}
	env, err := resource.New(context.Background(), resource.WithFromEnv())
	if err != nil {
		return r
	}
	if merged, err := resource.Merge(r, env); err == nil {
		return merged
	}
	return r
}
