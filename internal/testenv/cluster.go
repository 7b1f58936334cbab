package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterSlotRanges is the slot layout of every cluster testenv starts: master
// i (RedisCluster.Addrs[i]) owns clusterSlotRanges[i], as redis-cli would
// split 16384 slots over three masters.
var clusterSlotRanges = [3][2]int{{0, 5460}, {5461, 10922}, {10923, 16383}}

// RedisCluster is a Redis Cluster of three masters (no replicas), each a
// redis-server process of the machine's binary on free loopback ports.
type RedisCluster struct {
	// Addrs are the masters' client addresses; Addrs[i] owns the slots of
	// HashTagOnNode(i).
	Addrs []string
	nodes []*clusterNode
}

type clusterNode struct {
	addr    string
	port    int
	busPort int
	dir     string
	cmd     *exec.Cmd
}

// StartRedisCluster starts a three-master cluster private to one test and
// returns it with a client (closed at cleanup). Cleanup kills the processes and
// waits for them. It takes about 2 s: a master does not report cluster_state:ok
// sooner than 2 s after it started. Tests that do not need a cluster of their
// own should use SharedRedisCluster.
func StartRedisCluster(t testing.TB) (*RedisCluster, *redis.ClusterClient) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "redis-server binary: "+err.Error())
	}
	c, err := startClusterFromFreshGoroutine(bin, t.TempDir())
	if err != nil {
		t.Fatalf("start redis cluster: %v", err)
	}
	t.Cleanup(c.Stop)
	return c, c.Connect(t)
}

// Connect returns another client of the cluster, closed at cleanup.
func (c *RedisCluster) Connect(t testing.TB) *redis.ClusterClient {
	t.Helper()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Stop kills the cluster's processes and waits for them to exit.
func (c *RedisCluster) Stop() {
	for _, n := range c.nodes {
		n.stop()
	}
}

// HashTagOnNode returns a hash tag such as "{t3}": every key that contains it
// (and no "{" before it) lives in a slot of master i (0, 1 or 2; the order of
// RedisCluster.Addrs) of any cluster testenv starts. Use it to place keys on
// different masters on purpose.
func HashTagOnNode(i int) string {
	lo, hi := clusterSlotRanges[i][0], clusterSlotRanges[i][1]
	for n := 0; ; n++ {
		tag := "t" + strconv.Itoa(n)
		if s := keySlot(tag); s >= lo && s <= hi {
			return "{" + tag + "}"
		}
	}
}

// keySlot is Redis Cluster's HASH_SLOT: CRC16 (XMODEM) of the key, or of its
// hash tag, modulo 16384.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

// startClusterFromFreshGoroutine starts the cluster from a new goroutine: a
// new goroutine is never locked to an OS thread, so the thread that forks the
// processes outlives the caller even if the caller called runtime.LockOSThread
// (Pdeathsig fires when the forking thread exits, not the process).
func startClusterFromFreshGoroutine(bin, dir string) (*RedisCluster, error) {
	type result struct {
		c   *RedisCluster
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := startCluster(bin, dir)
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

// startCluster starts three cluster-mode servers under dir, assigns the slots,
// joins them and waits until a cluster client can write to every master.
func startCluster(bin, dir string) (*RedisCluster, error) {
	c := &RedisCluster{}
	ports, err := freePorts(2 * len(clusterSlotRanges))
	if err != nil {
		return nil, err
	}
	for i := range clusterSlotRanges {
		n := &clusterNode{port: ports[2*i], busPort: ports[2*i+1], dir: filepath.Join(dir, "node"+strconv.Itoa(i))}
		if err := os.MkdirAll(n.dir, 0o700); err != nil {
			c.Stop()
			return nil, err
		}
		if err := n.start(bin); err != nil {
			c.Stop()
			return nil, err
		}
		c.nodes = append(c.nodes, n)
		c.Addrs = append(c.Addrs, n.addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := c.form(ctx); err != nil {
		c.Stop()
		return nil, fmt.Errorf("%w\n%s", err, c.logTails())
	}
	return c, nil
}

// start runs redis-server in cluster mode and waits until it listens. When
// its ports were taken in the meantime, it tries again on other ones.
func (n *clusterNode) start(bin string) error {
	var lastErr error
	for attempt := range 3 {
		if attempt > 0 {
			ports, err := freePorts(2)
			if err != nil {
				return err
			}
			n.port, n.busPort = ports[0], ports[1]
		}
		n.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(n.port))
		n.cmd = exec.Command(bin,
			"--port", strconv.Itoa(n.port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes",
			"--cluster-port", strconv.Itoa(n.busPort),
			"--cluster-config-file", filepath.Join(n.dir, "nodes.conf"),
			"--save", "", "--appendonly", "no",
			"--dir", n.dir, "--logfile", filepath.Join(n.dir, "redis.log"))
		n.cmd.SysProcAttr = dieWithParent()
		if err := n.cmd.Start(); err != nil {
			return err
		}
		if lastErr = n.waitListening(5 * time.Second); lastErr == nil {
			return nil
		}
		n.stop()
	}
	return lastErr
}

func (n *clusterNode) waitListening(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", n.addr, 100*time.Millisecond); err == nil {
			_ = c.Close()
			return nil
		}
		if processExited(n.cmd.Process.Pid) {
			return fmt.Errorf("redis-server on %s exited:\n%s", n.addr, n.logTail())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on %s not listening after %s:\n%s", n.addr, timeout, n.logTail())
}

func (n *clusterNode) stop() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Kill()
	_ = n.cmd.Wait()
	n.cmd = nil
}

// logTail returns the last lines of the node's log, for error messages.
func (n *clusterNode) logTail() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "redis.log"))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return "  " + n.addr + ": " + strings.Join(lines, "\n  "+n.addr+": ")
}

func (c *RedisCluster) logTails() string {
	tails := make([]string, 0, len(c.nodes))
	for _, n := range c.nodes {
		tails = append(tails, n.logTail())
	}
	return strings.Join(tails, "\n")
}

// form gives every master its slots and a distinct config epoch, makes every
// pair meet directly (no waiting for gossip to introduce them), then waits for
// cluster_state:ok everywhere and for a cluster client to reach every master.
func (c *RedisCluster) form(ctx context.Context) error {
	clients := make([]*redis.Client, len(c.nodes))
	for i, n := range c.nodes {
		clients[i] = redis.NewClient(&redis.Options{Addr: n.addr})
		defer func() { _ = clients[i].Close() }()
	}
	for i, rdb := range clients {
		if err := rdb.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			return fmt.Errorf("%s: cluster set-config-epoch: %w", c.Addrs[i], err)
		}
		r := clusterSlotRanges[i]
		if err := rdb.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", r[0], r[1]).Err(); err != nil {
			return fmt.Errorf("%s: cluster addslotsrange: %w", c.Addrs[i], err)
		}
	}
	for i, rdb := range clients {
		for _, peer := range c.nodes[i+1:] {
			if err := rdb.Do(ctx, "CLUSTER", "MEET", "127.0.0.1", peer.port, peer.busPort).Err(); err != nil {
				return fmt.Errorf("%s: cluster meet %s: %w", c.Addrs[i], peer.addr, err)
			}
		}
	}
	for i, rdb := range clients {
		if err := waitClusterOK(ctx, rdb, len(c.nodes)); err != nil {
			return fmt.Errorf("%s: %w", c.Addrs[i], err)
		}
	}
	return c.probe(ctx)
}

// waitClusterOK polls CLUSTER INFO until the node sees the cluster as ok and
// knows exactly the expected nodes (none still in handshake).
func waitClusterOK(ctx context.Context, rdb *redis.Client, nodes int) error {
	want := "cluster_known_nodes:" + strconv.Itoa(nodes) + "\r\n"
	var info string
	for {
		var err error
		info, err = rdb.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok\r\n") && strings.Contains(info, want) {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("cluster info: %w", err)
			}
			return fmt.Errorf("cluster not ok: %w:\n%s", ctx.Err(), info)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// probe writes and reads a key on every master through a cluster client, and
// checks that the client routes it to the master the layout says.
func (c *RedisCluster) probe(ctx context.Context) error {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	defer func() { _ = rdb.Close() }()
	for i, addr := range c.Addrs {
		key := "testenv:probe:" + HashTagOnNode(i)
		if err := rdb.Set(ctx, key, addr, 0).Err(); err != nil {
			return fmt.Errorf("probe SET %s: %w", key, err)
		}
		got, err := rdb.Get(ctx, key).Result()
		if err != nil {
			return fmt.Errorf("probe GET %s: %w", key, err)
		}
		if got != addr {
			return fmt.Errorf("probe GET %s = %q, want %q", key, got, addr)
		}
		master, err := rdb.MasterForKey(ctx, key)
		if err != nil {
			return fmt.Errorf("probe master for %s: %w", key, err)
		}
		if master.Options().Addr != addr {
			return fmt.Errorf("probe key %s routed to %s, want %s", key, master.Options().Addr, addr)
		}
		if err := rdb.Del(ctx, key).Err(); err != nil {
			return fmt.Errorf("probe DEL %s: %w", key, err)
		}
	}
	return nil
}

// freePorts returns n distinct loopback ports nothing listens on right now
// (all listeners are held open together, so the ports differ).
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		defer func() { _ = l.Close() }()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// deleteClusterPrefix deletes the keys under prefix on every master (SCAN is
// fine here: it is test cleanup, not a flow). Keys of one master are unlinked
// one by one in a pipeline: a multi-key UNLINK would cross slots.
func deleteClusterPrefix(addrs []string, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, addr := range addrs {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		iter := rdb.Scan(ctx, 0, escapeGlob(prefix)+"*", 1000).Iterator()
		pipe := rdb.Pipeline()
		for iter.Next(ctx) {
			pipe.Unlink(ctx, iter.Val())
			if pipe.Len() == 500 {
				_, _ = pipe.Exec(ctx)
			}
		}
		_, _ = pipe.Exec(ctx)
		_ = rdb.Close()
	}
}
