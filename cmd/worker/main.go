// Command worker is the MCP registry worker: it consumes registry events from
// NATS JetStream and keeps every user's registry of MCP servers in Redis.
//
//	worker [run]                      the consumer (default)
//	worker publish <suffix> --json …  publish one event
//	worker inspect user <userId>      a user's registry as readers see it
//	worker inspect server <name>      a server's record
//	worker watch user <userId>        a user's change notices, as JSON lines
//	worker reconcile                  re-derive loaded users from MongoDB, repair
//	worker dlq list|replay|purge      the dead letters
//	worker audit --user U | --server S  the audit records, as JSON lines
//
// Every option is a flag and an environment variable; `worker <cmd> -h` lists them.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // a dependency unreachable, a command failed
	exitUsage = 2 // bad flags or arguments
)

// run dispatches the sub-command and returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string) int {
	cmd := "run"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	c, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(os.Stderr, "worker: unknown command %q (want run, publish, inspect, watch, reconcile, dlq, audit, help)\n", cmd)
		return exitUsage
	}
	return c(ctx, args, getenv)
}

// commands maps each sub-command to its entry point.
var commands map[string]func(ctx context.Context, args []string, getenv func(string) string) int

func init() {
	commands = map[string]func(context.Context, []string, func(string) string) int{
		"run":       runCommand,
		"publish":   publishCommand,
		"inspect":   inspectCommand,
		"watch":     watchCommand,
		"reconcile": reconcileCommand,
		"dlq":       dlqCommand,
		"audit":     auditCommand,
		"help":      helpCommand,
	}
}

func helpCommand(context.Context, []string, func(string) string) int {
	fmt.Fprint(os.Stdout, `worker: the MCP registry worker

Commands:
  worker [run]                                 consume events and keep the registry in Redis
  worker publish <subject-suffix> --json '{…}' publish one event (payload also from stdin)
  worker inspect user <userId>                 print a user's registry as JSON
  worker inspect server <serverName> [--tenant T]  print a server's record as JSON
  worker watch user <userId>                   follow a user's change notices (JSON lines)
  worker reconcile [--users N] [--rate R]      re-derive loaded users from MongoDB, print the repairs
  worker dlq list [--limit N]                  list dead letters
  worker dlq replay [--seq N,…]                re-publish dead letters (all by default)
  worker dlq purge [--seq N,…]                 delete these dead letters (all by default)
  worker audit --user U | --server S [--since T]  who changed whose access, when, through which event (JSON lines)

Every option is a flag and an environment variable: worker <command> -h lists them.
`)
	return exitOK
}
