package devstack

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// globalAccount is the account of clients that connect without credentials.
const globalAccount = "$G"

// NATSCluster is a JetStream cluster of embedded nats-servers on loopback,
// each with its own client port, route port and store directory, all fixed
// at start so that a node killed with Kill comes back on the same ports and
// data with Restart. Safe for concurrent use.
type NATSCluster struct {
	name  string
	mu    sync.Mutex
	nodes []*natsNode
}

type natsNode struct {
	name              string
	port, clusterPort int
	dir               string
	srv               *server.Server // nil while killed
}

// StartNATSCluster starts n nodes (at least 3 for replicated streams) with
// their stores under dir and returns once every node accepts connections and
// the JetStream meta group has a leader that every node follows. The caller
// stops it with Shutdown.
func StartNATSCluster(dir string, n int) (*NATSCluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("nats cluster: %d nodes", n)
	}
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, fmt.Errorf("nats cluster: %w", err)
	}
	c := &NATSCluster{name: "devstack-js"}
	for i := range n {
		c.nodes = append(c.nodes, &natsNode{
			name: "n" + strconv.Itoa(i+1), port: ports[2*i], clusterPort: ports[2*i+1],
			dir: filepath.Join(dir, "n"+strconv.Itoa(i+1)),
		})
	}
	for i := range c.nodes {
		if err := c.start(i); err != nil {
			c.Shutdown()
			return nil, err
		}
	}
	if err := c.WaitReady(30 * time.Second); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

// freePorts returns n distinct loopback ports nothing listens on right now.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// options of node i: routes to every node (a node skips its own).
func (c *NATSCluster) options(i int) *server.Options {
	nd := c.nodes[i]
	routes := make([]*url.URL, 0, len(c.nodes))
	for _, o := range c.nodes {
		routes = append(routes, &url.URL{Scheme: "nats", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(o.clusterPort))})
	}
	return &server.Options{
		ServerName: nd.name,
		Host:       "127.0.0.1",
		Port:       nd.port,
		JetStream:  true,
		StoreDir:   nd.dir,
		Cluster:    server.ClusterOpts{Name: c.name, Host: "127.0.0.1", Port: nd.clusterPort},
		Routes:     routes,
		NoSigs:     true,
		NoLog:      true,
	}
}

// start starts node i; c.mu is held or the cluster is not shared yet.
func (c *NATSCluster) start(i int) error {
	nd := c.nodes[i]
	srv, err := server.NewServer(c.options(i))
	if err != nil {
		return fmt.Errorf("nats node %s: %w", nd.name, err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return fmt.Errorf("nats node %s on port %d: not ready after 10s", nd.name, nd.port)
	}
	nd.srv = srv
	return nil
}

// Size is the number of nodes.
func (c *NATSCluster) Size() int { return len(c.nodes) }

// URLs is the client URL of every node, comma-separated (as NATS_URL takes them).
func (c *NATSCluster) URLs() string {
	urls := make([]string, len(c.nodes))
	for i := range c.nodes {
		urls[i] = c.URL(i)
	}
	return strings.Join(urls, ",")
}

// URL is node i's client URL (valid while it is killed, too).
func (c *NATSCluster) URL(i int) string {
	return "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(c.nodes[i].port))
}

// Name is node i's server name.
func (c *NATSCluster) Name(i int) string { return c.nodes[i].name }

// Server is node i's running server, nil while it is killed.
func (c *NATSCluster) Server(i int) *server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i].srv
}

// Running reports whether node i runs.
func (c *NATSCluster) Running(i int) bool { return c.Server(i) != nil }

// WaitReady waits until every running node sees a JetStream meta leader and
// is current with it, and the leader sees every running node online.
func (c *NATSCluster) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if c.ready() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nats cluster: no JetStream meta leader followed by every node after %s", timeout)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// ready: every running node follows a meta leader, and that leader counts
// every running node as an online JetStream peer with current stats (what
// stream placement needs: without it a replicated stream created right after
// start is refused with "no suitable peers for placement, peer offline").
func (c *NATSCluster) ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	var leader *server.Server
	running := 0
	for _, nd := range c.nodes {
		if nd.srv == nil {
			continue
		}
		running++
		if !nd.srv.JetStreamIsCurrent() {
			return false
		}
		if nd.srv.JetStreamIsLeader() {
			leader = nd.srv
		}
	}
	return leader != nil && len(leader.JetStreamClusterPeers()) >= running
}

// ErrNoLeader is returned when no running node leads the stream.
var ErrNoLeader = errors.New("no running node leads the stream")

// StreamLeader returns the index of the node that leads the stream (of
// clients without credentials), or ErrNoLeader (during an election).
func (c *NATSCluster) StreamLeader(stream string) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, nd := range c.nodes {
		if nd.srv != nil && nd.srv.JetStreamIsStreamLeader(globalAccount, stream) {
			return i, nil
		}
	}
	return -1, fmt.Errorf("stream %s: %w", stream, ErrNoLeader)
}

// WaitStreamLeader polls StreamLeader until a running node leads the stream.
func (c *NATSCluster) WaitStreamLeader(stream string, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for {
		i, err := c.StreamLeader(stream)
		if err == nil || time.Now().After(deadline) {
			return i, err
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Kill shuts node i down abruptly for its clients and peers (its store stays).
// Killing a killed node is a no-op.
func (c *NATSCluster) Kill(i int) {
	c.mu.Lock()
	srv := c.nodes[i].srv
	c.nodes[i].srv = nil
	c.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}

// Restart starts a killed node again on its ports and store directory and
// waits until the cluster is ready (timeout).
func (c *NATSCluster) Restart(i int, timeout time.Duration) error {
	c.mu.Lock()
	if c.nodes[i].srv != nil {
		c.mu.Unlock()
		return fmt.Errorf("nats node %s: already running", c.nodes[i].name)
	}
	err := c.start(i)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.WaitReady(timeout)
}

// Shutdown stops every node and waits for them.
func (c *NATSCluster) Shutdown() {
	var wg sync.WaitGroup
	for i := range c.nodes {
		wg.Go(func() { c.Kill(i) })
	}
	wg.Wait()
}
