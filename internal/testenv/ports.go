package testenv

import (
	"net"
	"testing"
)

// FreeAddr returns a loopback address nothing listens on right now (another
// process may still take it before the caller does).
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
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
