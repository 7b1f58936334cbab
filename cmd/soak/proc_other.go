//go:build !linux

package main

import "syscall"

// childAttr: without Pdeathsig, children are stopped by the soak's own cleanup.
func childAttr() *syscall.SysProcAttr { return nil }
