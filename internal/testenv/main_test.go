package testenv_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/mcp-registry/worker/internal/testenv"
)

// TestMain stops the shared cluster after the leak check, as documented on
// SharedRedisCluster: the check passing proves the shared cluster and the
// per-test clients leave no goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		testenv.StopSharedRedisCluster()
		os.Exit(code)
	}))
}
