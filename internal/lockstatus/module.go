package lockstatus

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"
)

// Module provides a *Locker from a redis.UniversalClient and a Config; with
// a prometheus.Registerer in the container it records the lock metrics.
var Module = fx.Module("lockstatus",
	fx.Provide(newFx),
)

type params struct {
	fx.In

	Client     redis.UniversalClient
	Config     Config
	Registerer prometheus.Registerer `optional:"true"`
}

func newFx(p params) *Locker {
	var m *Metrics
	if p.Registerer != nil {
		m = NewMetrics(p.Registerer)
	}
	return NewInstrumented(p.Client, p.Config, m)
}
