package handlers_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/mcp-registry/worker/internal/testenv"
)

// TestMain checks that no test leaves a goroutine behind, then stops the
// shared Redis Cluster the tests use when MCP_TEST_REDIS=cluster
// (testenv.DefaultRedis; it runs no goroutine of its own).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		testenv.StopSharedRedisCluster()
		os.Exit(code)
	}))
}
