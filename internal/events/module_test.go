package events

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

func TestModuleValidates(t *testing.T) {
	t.Parallel()
	err := fx.ValidateApp(
		Module,
		fx.NopLogger,
		fx.Supply(DefaultConfig(), zap.NewNop(), map[Kind]Handler{}),
		fx.Provide(
			func() jetstream.JetStream { return nil },
			func() prometheus.Registerer { return prometheus.NewRegistry() },
		),
		fx.Invoke(func(*Consumer, *Publisher, *Metrics) {}),
	)
	require.NoError(t, err)
}
