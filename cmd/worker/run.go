package main

import (
	"context"
	"fmt"
	"os"

	"github.com/redis/go-redis/v9"
	"go.uber.org/dig"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/mcp-registry/worker/internal/logging"
)

// runCommand is `worker run`: start, run until SIGINT/SIGTERM, shut down.
func runCommand(ctx context.Context, args []string, getenv func(string) string) int {
	cfg, positional, code, ok := parseCommand("run", "run [options]", args, getenv, nil)
	if !ok {
		return code
	}
	if len(positional) > 0 {
		return usageError("run", "unexpected argument %q", positional[0])
	}
	log, err := newLogger(cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return usageError("run", "%v", err)
	}
	defer func() { _ = log.Sync() }()
	redis.SetLogger(&redisLogger{log: log.Named("redis")}) // process-wide: go-redis has one logger
	log.Info("Starting worker", cfg.Fields()...)

	app := fx.New(appOptions(cfg, log))
	if err := app.Err(); err != nil {
		return startFailure(log, err)
	}
	startCtx, cancel := context.WithTimeout(ctx, app.StartTimeout())
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		return startFailure(log, err)
	}
	log.Info("Worker running")
	<-ctx.Done()
	log.Info("Shutting down")
	stopCtx, cancelStop := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancelStop()
	if err := app.Stop(stopCtx); err != nil {
		log.Error("Shutdown incomplete", zap.Error(err))
		return exitError
	}
	log.Info("Worker stopped")
	return exitOK
}

// startFailure prints the root cause on one line (it names the address that
// failed) and returns exitError.
func startFailure(log *zap.Logger, err error) int {
	root := dig.RootCause(err)
	log.Error("Start failed", zap.Error(root))
	fmt.Fprintf(os.Stderr, "worker run: %s\n", oneLine(root))
	return exitError
}

// newLogger builds the JSON (production) or console (make run) logger.
func newLogger(format, level string) (*zap.Logger, error) {
	return logging.New(format, level, nil)
}
