package main

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// redisServer is a redis-server process on a fixed port whose data survives
// a SIGKILL: an append-only file fsynced on every write, so no write Redis
// acknowledged is lost by a restart (as a production Redis with AOF).
type redisServer struct {
	bin, dir string
	port     int
	cmd      *exec.Cmd
}

func startRedis(dir string, port int) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server binary: %w", err)
	}
	r := &redisServer{bin: bin, dir: dir, port: port}
	return r, r.start()
}

// Addr is host:port.
func (r *redisServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

func (r *redisServer) start() error {
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", r.dir,
		"--maxmemory-policy", "noeviction")
	r.cmd.SysProcAttr = childAttr()
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	return waitListening(r.Addr(), 10*time.Second)
}

// kill stops the server with SIGKILL and waits for it.
func (r *redisServer) kill() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// waitListening polls addr until it accepts a TCP connection.
func waitListening(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening after %s", addr, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// givenPorts are the ports freePort returned: the kernel may hand a
// just-closed port out again, and two servers given one port collide.
var givenPorts = struct {
	sync.Mutex
	m map[int]bool
}{m: map[int]bool{}}

// freePort returns a loopback port nothing listens on right now, never the
// same twice.
func freePort() (int, error) {
	givenPorts.Lock()
	defer givenPorts.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if err := l.Close(); err != nil {
			return 0, fmt.Errorf("free port: %w", err)
		}
		if !givenPorts.m[port] {
			givenPorts.m[port] = true
			return port, nil
		}
	}
}
