package ops_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/mcp-registry/worker/internal/ops"
)

func TestModuleValidates(t *testing.T) {
	t.Parallel()
	err := fx.ValidateApp(
		fx.NopLogger,
		ops.Module,
		fx.Provide(func() ops.Params { return ops.Params{Addr: "127.0.0.1:0"} }),
		fx.Invoke(func(*ops.Server) {}),
	)
	require.NoError(t, err)
}
