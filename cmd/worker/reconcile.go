package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"

	"github.com/mcp-registry/worker/internal/handlers"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// reconcileCommand is `worker reconcile [--users N] [--rate R]`: one pass over
// the loaded users, re-deriving each from MongoDB; one JSON line per repaired
// user, then {"checked":N,"repaired":M}.
func reconcileCommand(ctx context.Context, args []string, getenv func(string) string) int {
	var users int
	var rate float64
	cfg, positional, code, ok := parseCommand("reconcile", "reconcile [--users N] [--rate R] [options]", args, getenv,
		func(fs *flag.FlagSet) {
			fs.IntVar(&users, "users", 0, "check at most this many loaded users (0: all)")
			fs.Float64Var(&rate, "rate", 100, "users checked per second (0: no limit)")
		})
	if !ok {
		return code
	}
	if len(positional) > 0 {
		return usageError("reconcile", "unexpected argument %q", positional[0])
	}
	if users < 0 || rate < 0 {
		return usageError("reconcile", "--users and --rate must not be negative")
	}
	rdb, err := newRedis(cfg)
	if err != nil {
		return failure("reconcile", err)
	}
	defer func() { _ = rdb.Close() }()
	if err := pingRedis(ctx, rdb); err != nil {
		return failure("reconcile", err)
	}
	mc, err := newMongo(cfg)
	if err != nil {
		return failure("reconcile", err)
	}
	defer func() { _ = mc.Disconnect(context.WithoutCancel(ctx)) }()
	if err := pingMongo(ctx, mc, cfg.MongoURI); err != nil {
		return failure("reconcile", err)
	}
	reg := registry.New(rdb, cfg.registryConfig())
	rec := handlers.NewReconciler(reg, lockstatus.New(rdb, cfg.lockConfig()), serverdb.New(mc, cfg.serverdbConfig()))
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	checked, repaired, err := rec.Pass(ctx, handlers.Options{MaxUsers: users, Rate: rate}, func(r handlers.Repair) {
		_ = enc.Encode(r)
	})
	_ = enc.Encode(map[string]int{"checked": checked, "repaired": repaired})
	if err != nil {
		return failure("reconcile", err)
	}
	return exitOK
}
