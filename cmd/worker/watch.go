package main

import (
	"context"
	"encoding/json"
	"io"
	"os"

	"github.com/mcp-registry/worker/reader"
)

// watchCommand is `worker watch user <userId>`: the line {"watching":"<id>"}
// once subscribed, then one JSON line per change notice of the user's
// effective view, until interrupted (SIGINT/SIGTERM: exit 0).
func watchCommand(ctx context.Context, args []string, getenv func(string) string) int {
	cfg, positional, code, ok := parseCommand("watch", "watch user <userId> [options]", args, getenv, nil)
	if !ok {
		return code
	}
	if len(positional) != 2 || positional[0] != "user" {
		return usageError("watch", "want `watch user <userId>`")
	}
	rdb, err := newRedis(cfg)
	if err != nil {
		return failure("watch", err)
	}
	defer func() { _ = rdb.Close() }()
	if err := pingRedis(ctx, rdb); err != nil {
		return failure("watch", err)
	}
	rd, err := reader.New(rdb, reader.Options{KeyPrefix: cfg.KeyPrefix})
	if err != nil {
		return failure("watch", err)
	}
	changes, err := rd.Watch(ctx, positional[1])
	if err != nil {
		return failure("watch", err)
	}
	if err := watchLines(os.Stdout, positional[1], changes); err != nil {
		return failure("watch", err)
	}
	return exitOK
}

// watchLines writes the subscription line, then one line per change, until
// changes is closed.
func watchLines(w io.Writer, user string, changes <-chan reader.Change) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]string{"watching": user}); err != nil {
		return err
	}
	for c := range changes {
		if err := enc.Encode(c); err != nil {
			return err
		}
	}
	return nil
}
