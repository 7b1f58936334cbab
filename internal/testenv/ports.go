package testenv

import (
	"net"
	"sync"
	"testing"
	"time"
)

// given holds every address FreeAddr returned in this process: the kernel
// may hand a just-closed port out again, and two servers of one test given
// the same address collide (seen: devstack's MongoDB and ops listener).
var given = struct {
	sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// FreeAddr returns a loopback address nothing listens on right now and that
// it never returned before in this process (another process may still take
// it before the caller does).
func FreeAddr(t testing.TB) string {
	t.Helper()
	given.Lock()
	defer given.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		if !given.addrs[addr] {
			given.addrs[addr] = true
			return addr
		}
	}
}

// AssertFree reports a test error when something still listens on addr.
func AssertFree(t testing.TB, addr string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("%s is not free again: %v", addr, err)
		return
	}
	_ = l.Close()
}

// WaitListening waits until something accepts connections on addr, at most
// timeout (a server process just started).
func WaitListening(addr string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			_ = c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
