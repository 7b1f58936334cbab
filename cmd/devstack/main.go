// Command devstack runs the development stack behind `make run`: embedded
// NATS JetStream, Redis (miniredis) and MongoDB (FerretDB) on loopback ports,
// the LibreChat demo data, and the worker as a child process; it then sends
// demo events, shows their results and prints what to try next. Ctrl-C stops
// the worker, then the stack.
//
// It is a development tool: the production worker never imports it.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
