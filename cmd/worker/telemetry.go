package main

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	mongooptions "go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/telemetry"
)

// tracerName names the instrumentation scope of the spans cmd/worker makes
// (publish, MongoDB commands).
const tracerName = "github.com/mcp-registry/worker/cmd/worker"

// newTracing builds the tracer provider of `worker run`: OTLP/HTTP export
// when --otlp-endpoint (OTEL_EXPORTER_OTLP_ENDPOINT) is set, a no-op
// provider otherwise. registerLifecycle flushes it last.
func newTracing(c Config) (telemetry.Tracing, error) {
	return telemetry.NewTracing(context.Background(), c.OTLPEndpoint)
}

// tracerProvider hands the consume loop the provider of tr.
func tracerProvider(tr telemetry.Tracing) trace.TracerProvider { return tr.Provider }

// newInstrumentedRedis is newRedis with the metrics hook (durations by
// command or script, round trips per event kind) and, when tracing is on,
// go-redis's own OpenTelemetry tracing hook without statements (keys and
// arguments never reach a span).
func newInstrumentedRedis(c Config, reg prometheus.Registerer, tr telemetry.Tracing) (redis.UniversalClient, error) {
	client, err := newRedis(c)
	if err != nil {
		return nil, err
	}
	if tr.Enabled { // first: the metrics hook below names its spans
		if err := redisotel.InstrumentTracing(client, redisotel.WithTracerProvider(tr.Provider),
			redisotel.WithDBStatement(false)); err != nil {
			return nil, fmt.Errorf("redis tracing: %w", err)
		}
	}
	client.AddHook(telemetry.NewRedisMetrics(reg).Hook(registry.ScriptNames(), tr.Enabled))
	return client, nil
}

// newInstrumentedMongo is newMongo with the driver's CommandMonitor feeding
// the MongoDB metrics and, when tracing is on, one span per command.
func newInstrumentedMongo(c Config, reg prometheus.Registerer, tr telemetry.Tracing) (*mongo.Client, error) {
	var tracer trace.Tracer
	if tr.Enabled {
		tracer = tr.Provider.Tracer(tracerName)
	}
	mon := telemetry.NewMongoMonitor(telemetry.NewMongoMetrics(reg), tracer)
	return newMongo(c, func(o *mongooptions.ClientOptions) { o.SetMonitor(mon) })
}

// newPoller polls JetStream and Redis for the gauges no event moves.
func newPoller(c Config, js jetstream.JetStream, reg *registry.Registry, r prometheus.Registerer, log *zap.Logger) *telemetry.Poller {
	ec := c.eventsConfig()
	return telemetry.NewPoller(telemetry.PollerParams{
		JS: js, Stream: ec.Stream, Consumer: ec.Consumer, DLQ: ec.DLQStream,
		LoadedUsers: reg.LoadedUsers, Every: c.MetricsPollEvery, Registerer: r,
		Logger: log.Named("metrics"),
	})
}
