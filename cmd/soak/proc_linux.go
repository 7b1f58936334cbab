package main

import "syscall"

// childAttr has the kernel kill a child (worker, redis-server) should the
// soak die without stopping it.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
