package reader_test

import (
	"os"
	"testing"

	"github.com/mcp-registry/worker/internal/testenv"
)

// TestMain stops the shared Redis Cluster the tests use when
// MCP_TEST_REDIS=cluster (testenv.DefaultRedis).
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopSharedRedisCluster()
	os.Exit(code)
}
