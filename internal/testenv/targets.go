package testenv

import (
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// RedisTarget is one kind of Redis deployment a test can run against.
type RedisTarget struct {
	// Name is "single" or "cluster"; use it as the subtest name.
	Name string
	// Connect returns a client and a key prefix unique to the calling test,
	// whose keys are deleted at cleanup: Redis for "single",
	// SharedRedisCluster for "cluster". A target that is unavailable skips
	// (or, under CI=true, fails) only the test that connects to it.
	Connect func(t testing.TB) (redis.UniversalClient, string)
}

// RedisTargets lists the deployments code that talks to Redis must work
// with. Run a test once per target:
//
//	for _, rt := range testenv.RedisTargets() {
//		t.Run(rt.Name, func(t *testing.T) {
//			rdb, prefix := rt.Connect(t)
//			...
//		})
//	}
//
// Keys that one Lua script or MULTI touches together must share a hash tag
// (prefix + "{user42}:..."), or the "cluster" target fails with CROSSSLOT.
// The package's TestMain should call StopSharedRedisCluster.
func RedisTargets() []RedisTarget {
	return []RedisTarget{
		{Name: "single", Connect: func(t testing.TB) (redis.UniversalClient, string) {
			t.Helper()
			return Redis(t)
		}},
		{Name: "cluster", Connect: func(t testing.TB) (redis.UniversalClient, string) {
			t.Helper()
			return SharedRedisCluster(t)
		}},
	}
}

// RedisTargetEnv names the environment variable that picks the Redis a
// package's tests use through DefaultRedis: "cluster" for the shared 3-master
// cluster, anything else for the single Redis. `make test` runs the registry,
// lock and flow packages once with each.
const RedisTargetEnv = "MCP_TEST_REDIS"

// DefaultRedis returns the client and key prefix of the Redis this test run
// targets (RedisTargetEnv): the single Redis by default, the shared cluster
// when it says "cluster". The package's TestMain should call
// StopSharedRedisCluster.
func DefaultRedis(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	if os.Getenv(RedisTargetEnv) == "cluster" {
		return SharedRedisCluster(t)
	}
	return Redis(t)
}
