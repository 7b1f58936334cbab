package main

import (
	"context"
	"flag"

	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/reader/layout"
)

// inspectCommand is `worker inspect user <userId>` and
// `worker inspect server <serverName> [--tenant T]`: the registry as readers
// see it, as JSON.
func inspectCommand(ctx context.Context, args []string, getenv func(string) string) int {
	var tenant string
	cfg, positional, code, ok := parseCommand("inspect", "inspect user <userId> | inspect server <serverName> [--tenant T] [options]", args, getenv,
		func(fs *flag.FlagSet) {
			fs.StringVar(&tenant, "tenant", "", "the server's tenant (inspect server; empty: the default tenant)")
		})
	if !ok {
		return code
	}
	if len(positional) != 2 || (positional[0] != "user" && positional[0] != "server") {
		return usageError("inspect", "want `inspect user <userId>` or `inspect server <serverName>`")
	}
	rdb, err := newRedis(cfg)
	if err != nil {
		return failure("inspect", err)
	}
	defer func() { _ = rdb.Close() }()
	if err := pingRedis(ctx, rdb); err != nil {
		return failure("inspect", err)
	}
	reg := registry.New(rdb, cfg.registryConfig())
	if positional[0] == "user" {
		v, err := reg.User(ctx, positional[1])
		if err != nil {
			return failure("inspect", err)
		}
		return printJSON("inspect", v)
	}
	v, err := reg.Server(ctx, layout.Qualify(tenant, positional[1]))
	if err != nil {
		return failure("inspect", err)
	}
	v.ServerName = positional[1] // as the tenant knows it, not qualified
	return printJSON("inspect", v)
}
