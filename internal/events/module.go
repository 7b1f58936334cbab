package events

import (
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides the *Consumer, the *Outages, the *Publisher and the
// *Metrics. It needs a jetstream.JetStream, a Config, a *zap.Logger, a
// prometheus.Registerer and the map[Kind]Handler of the flows; a *nats.Conn
// is optional (for Mcp-Notify, else the JetStream connection), and so are
// the Watches of outage mode (none: nothing is held) and a
// trace.TracerProvider (handler spans; none without it). It registers no
// lifecycle hook: cmd/worker calls Provision, Start and Stop in its own
// order, and Outages.Close after Stop.
var Module = fx.Module("events",
	fx.Provide(
		newConsumerFx,
		newOutagesFx,
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
	Outages  *Outages
	Tracer   trace.TracerProvider `optional:"true"`
	Parking  Parking              `optional:"true"`
}

func newConsumerFx(in consumerIn) (*Consumer, error) {
	return NewConsumer(ConsumerParams{
		JS:       in.JS,
		Conn:     in.Conn,
		Config:   in.Config,
		Handlers: in.Handlers,
		Logger:   in.Logger.Named("events"),
		Metrics:  in.Metrics,
		Outages:  in.Outages,
		Parking:  in.Parking,
		// nil (not provided) turns tracing off
		TracerProvider: in.Tracer,
	})
}

// outagesIn is what newOutagesFx takes from the container.
type outagesIn struct {
	fx.In

	Config  Config
	Watches Watches `optional:"true"`
	Logger  *zap.Logger
	Metrics *Metrics
}

func newOutagesFx(in outagesIn) (*Outages, error) {
	return NewOutages(in.Config.Outage, in.Watches, in.Logger.Named("outage"), in.Metrics)
}
