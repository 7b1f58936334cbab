package telemetry

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcp-registry/worker/internal/events"
)

// MongoMetrics are the MongoDB client's metrics, fed by the driver's
// CommandMonitor:
//   - mcp_worker_mongodb_seconds{command,collection,status}: one command
//     (find, getMore, ...) from send to reply, as the driver measures it
//   - mcp_worker_mongodb_queries_total{kind}: commands sent while handling
//     an event of kind (none outside events): divide by
//     mcp_worker_messages_total for queries per event
type MongoMetrics struct {
	seconds *prometheus.HistogramVec
	queries *prometheus.CounterVec
}

// NewMongoMetrics creates the metrics and registers them with reg.
func NewMongoMetrics(reg prometheus.Registerer) *MongoMetrics {
	f := promauto.With(reg)
	return &MongoMetrics{
		seconds: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mcp_worker_mongodb_seconds",
			Help:    "MongoDB commands, by command, collection and status (ok or error).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"command", "collection", "status"}),
		queries: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_worker_mongodb_queries_total",
			Help: "MongoDB commands sent while handling events, by event kind (none: outside events).",
		}, []string{"kind"}),
	}
}

// NewMongoMonitor returns the CommandMonitor to set on the client options:
// it records m and, unless tracer is nil, makes one client span per command
// (a child of the handler's span), named "<command> <collection>", with no
// query document in it.
func NewMongoMonitor(m *MongoMetrics, tracer trace.Tracer) *event.CommandMonitor {
	mon := &mongoMonitor{m: m, tracer: tracer}
	return &event.CommandMonitor{Started: mon.started, Succeeded: mon.succeeded, Failed: mon.failed}
}

type mongoMonitor struct {
	m      *MongoMetrics
	tracer trace.Tracer
	open   sync.Map // commandKey -> *openCommand
}

type commandKey struct {
	conn string
	id   int64
}

type openCommand struct {
	collection string
	span       trace.Span
}

func (mm *mongoMonitor) started(ctx context.Context, e *event.CommandStartedEvent) {
	c := &openCommand{collection: collectionOf(e)}
	mm.m.queries.WithLabelValues(events.KindLabel(ctx)).Inc()
	if mm.tracer != nil {
		name := e.CommandName
		if c.collection != "" {
			name += " " + c.collection
		}
		_, c.span = mm.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
			attribute.String("db.system.name", "mongodb"),
			attribute.String("db.namespace", e.DatabaseName),
			attribute.String("db.operation.name", e.CommandName),
			attribute.String("db.collection.name", c.collection),
		))
	}
	mm.open.Store(commandKey{e.ConnectionID, e.RequestID}, c)
}

func (mm *mongoMonitor) succeeded(_ context.Context, e *event.CommandSucceededEvent) {
	mm.finish(e.CommandFinishedEvent, nil)
}

func (mm *mongoMonitor) failed(_ context.Context, e *event.CommandFailedEvent) {
	mm.finish(e.CommandFinishedEvent, e.Failure)
}

func (mm *mongoMonitor) finish(e event.CommandFinishedEvent, err error) {
	v, ok := mm.open.LoadAndDelete(commandKey{e.ConnectionID, e.RequestID})
	if !ok {
		return
	}
	c := v.(*openCommand)
	status := "ok"
	if err != nil {
		status = "error"
	}
	mm.m.seconds.WithLabelValues(e.CommandName, c.collection, status).Observe(e.Duration.Seconds())
	if c.span != nil {
		if err != nil {
			c.span.SetStatus(codes.Error, e.CommandName+" failed")
		}
		c.span.End(trace.WithTimestamp(time.Now()))
	}
}

// collectionOf is the collection a command names (the command's own field
// for find, count, distinct, aggregate...; the collection field of getMore),
// or "" for a command on no collection (ping, hello, endSessions).
func collectionOf(e *event.CommandStartedEvent) string {
	field := e.CommandName
	if field == "getMore" {
		field = "collection"
	}
	if v, err := e.Command.LookupErr(field); err == nil {
		if s, ok := v.StringValueOK(); ok {
			return s
		}
	}
	return ""
}
