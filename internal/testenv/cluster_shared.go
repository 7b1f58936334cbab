package testenv

import (
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// The package-shared cluster: started by the first SharedRedisCluster of a
// test binary, stopped by StopSharedRedisCluster or, failing that, killed by
// the kernel when the test binary exits (dieWithParent, on Linux).
var shared struct {
	once    sync.Once
	mu      sync.Mutex
	cluster *RedisCluster
	dir     string
	noBin   error // redis-server is not installed
	err     error // it is, but the cluster did not start
	stopped bool
}

// SharedRedisCluster returns a client of a three-master cluster shared by the
// tests of one test binary, and a key prefix unique to this test whose keys
// are deleted at cleanup (on every master). The client is the test's own and
// closed at cleanup. The cluster starts on the first call (about 2 s) and
// keeps running for the next tests; a package that uses it should stop it from
// its TestMain:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		testenv.StopSharedRedisCluster()
//		os.Exit(code)
//	}
//
// With goleak, stop it in goleak.Cleanup (the shared cluster itself runs no
// goroutine, so the leak check passes before it is stopped):
//
//	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
//		testenv.StopSharedRedisCluster()
//		os.Exit(code)
//	}))
//
// Tests sharing it must keep to their prefix and must not FLUSHALL, change the
// cluster's configuration or stop its nodes; use StartRedisCluster for that.
func SharedRedisCluster(t testing.TB) (*redis.ClusterClient, string) {
	t.Helper()
	c := sharedCluster(t)
	prefix := newPrefix(t)
	t.Cleanup(func() { deleteClusterPrefix(c.Addrs, prefix) })
	return c.Connect(t), prefix
}

func sharedCluster(t testing.TB) *RedisCluster {
	t.Helper()
	shared.once.Do(startShared)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	switch {
	case shared.noBin != nil:
		unavailable(t, "redis-server binary: "+shared.noBin.Error())
	case shared.err != nil:
		t.Fatalf("start shared redis cluster: %v", shared.err)
	case shared.stopped:
		t.Fatalf("shared redis cluster used after StopSharedRedisCluster")
	}
	return shared.cluster
}

func startShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		shared.noBin = err
		return
	}
	// Not t.TempDir: the cluster outlives the test that starts it.
	shared.dir, err = os.MkdirTemp("", "testenv-redis-cluster-")
	if err != nil {
		shared.err = err
		return
	}
	shared.cluster, shared.err = startClusterFromFreshGoroutine(bin, shared.dir)
	if shared.err != nil {
		_ = os.RemoveAll(shared.dir)
	}
}

// StopSharedRedisCluster stops the cluster of SharedRedisCluster, if it was
// started, and removes its directory. Call it from TestMain after m.Run; it
// is a no-op when no test used the shared cluster.
func StopSharedRedisCluster() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.cluster == nil || shared.stopped {
		return
	}
	shared.stopped = true
	shared.cluster.Stop()
	_ = os.RemoveAll(shared.dir)
}
