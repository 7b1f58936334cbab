package testenv

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServer is a redis-server process private to one test: clean counters
// (INFO commandstats) and free to stop and restart.
type RedisServer struct {
	Addr string
	port int
	dir  string
	cmd  *exec.Cmd
}

// StartRedisServer starts redis-server from the machine's binary on a free
// loopback port, with nothing persisted. Cleanup stops it.
func StartRedisServer(t testing.TB) (*RedisServer, *redis.Client) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "redis-server binary: "+err.Error())
	}
	addr := FreeAddr(t)
	_, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	s := &RedisServer{Addr: addr, port: port, dir: t.TempDir()}
	if err := s.start(bin); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(s.Stop)
	return s, connectRedis(t, &redis.Options{Addr: s.Addr})
}

func (s *RedisServer) start(bin string) error {
	s.cmd = exec.Command(bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir)
	if err := s.cmd.Start(); err != nil {
		return err
	}
	if WaitListening(s.Addr, 5*time.Second) {
		return nil
	}
	return fmt.Errorf("redis-server on %s not listening after 5s", s.Addr)
}

// Stop kills the server and waits for it to exit.
func (s *RedisServer) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart stops the server and starts it again on the same port, empty
// (or with the data of the last Shutdown).
func (s *RedisServer) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	bin, _ := exec.LookPath("redis-server")
	if err := s.start(bin); err != nil {
		t.Fatalf("restart redis-server: %v", err)
	}
}

// Shutdown stops the server the way a planned failover or maintenance does:
// SHUTDOWN SAVE writes the data to its directory, so Start brings it back
// with the data. It waits for the process to exit.
func (s *RedisServer) Shutdown(t testing.TB) {
	t.Helper()
	if s.cmd == nil {
		return
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer func() { _ = c.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The server closes the connection instead of replying: an error is
	// expected; the exit below is what counts.
	_ = c.ShutdownSave(ctx).Err()
	done := make(chan struct{})
	cmd := s.cmd
	go func() {
		_ = cmd.Wait() // the exit status of a shut down server says nothing
		close(done)
	}()
	select {
	case <-done:
		s.cmd = nil
	case <-ctx.Done():
		t.Fatalf("redis-server on %s did not exit after SHUTDOWN SAVE", s.Addr)
	}
}

// Start starts a stopped server again on the same port, loading the data a
// Shutdown saved (a server stopped with Stop starts empty, or with the data
// of the last Shutdown).
func (s *RedisServer) Start(t testing.TB) {
	t.Helper()
	if s.cmd != nil {
		return
	}
	bin, _ := exec.LookPath("redis-server")
	if err := s.start(bin); err != nil {
		t.Fatalf("start redis-server again: %v", err)
	}
}
