//go:build !linux

package testenv

import "syscall"

// dieWithParent has no portable equivalent outside Linux: a server started
// here outlives a test binary that is killed (StopSharedRedisCluster and test
// cleanup still stop it on a normal exit).
func dieWithParent() *syscall.SysProcAttr { return nil }

// processExited is unknown here; waitListening then relies on its timeout.
func processExited(int) bool { return false }
