package events

import (
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides the *Consumer, the *Publisher and the *Metrics. It needs
// a jetstream.JetStream, a Config, a *zap.Logger, a prometheus.Registerer
// and the map[Kind]Handler of the flows; a *nats.Conn is optional (for
// Mcp-Notify, else the JetStream connection), and so is a
// trace.TracerProvider (handler spans; none without it). It registers no lifecycle
// hook: cmd/worker calls Provision, Start and Stop in its own order.
var Module = fx.Module("events",
	fx.Provide(
		newConsumerFx,
		NewPublisher,
		NewMetrics,
	),
)

// consumerIn is what newConsumerFx takes from the container.
type consumerIn struct {
	fx.In

	JS       jetstream.JetStream
	Conn     *nats.Conn `optional:"true"`
	Config   Config
	Handlers map[Kind]Handler
	Logger   *zap.Logger
	Metrics  *Metrics
	Tracer   trace.TracerProvider `optional:"true"`
}

func newConsumerFx(in consumerIn) (*Consumer, error) {
	return NewConsumer(ConsumerParams{
		JS:       in.JS,
		Conn:     in.Conn,
		Config:   in.Config,
		Handlers: in.Handlers,
		Logger:   in.Logger.Named("events"),
		Metrics:  in.Metrics,
		// nil (not provided) turns tracing off
		TracerProvider: in.Tracer,
	})
}
