package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/mcp-registry/worker/internal/events"
)

// auditCommand is `worker audit --user U | --server S [--tenant T] [--since T]`:
// the audit records of a user or a server (both: of that user and server),
// oldest first, as JSON lines; nothing when there are none.
func auditCommand(ctx context.Context, args []string, getenv func(string) string) int {
	var q events.AuditQuery
	var since string
	cfg, positional, code, ok := parseCommand("audit", "audit --user <userId> | --server <name> [--tenant T] [--since <RFC 3339 | duration>] [options]", args, getenv,
		func(fs *flag.FlagSet) {
			fs.StringVar(&q.User, "user", "", "the records of this `userId`")
			fs.StringVar(&q.Server, "server", "", "the records of this server `name` (changes of every user's access included)")
			fs.StringVar(&q.Tenant, "tenant", "", "the server's `tenant` (default: the documents without tenantId)")
			fs.StringVar(&since, "since", "", "only records from this `time` on: RFC 3339, or a duration back from now (24h)")
		})
	if !ok {
		return code
	}
	if len(positional) > 0 {
		return usageError("audit", "unexpected argument %q", positional[0])
	}
	if q.User == "" && q.Server == "" {
		return usageError("audit", "want --user or --server")
	}
	if q.Tenant != "" && q.Server == "" {
		return usageError("audit", "--tenant needs --server")
	}
	var err error
	if q.Since, err = parseSince(since, time.Now()); err != nil {
		return usageError("audit", "--since: %v", err)
	}
	nc, err := connectNATS(cfg, zap.NewNop())
	if err != nil {
		return failure("audit", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return failure("audit", err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	err = events.ReadAudit(ctx, js, cfg.eventsConfig(), q, func(r events.AuditRecord) error { return enc.Encode(r) })
	if err != nil {
		return failure("audit", err)
	}
	return exitOK
}

// parseSince reads --since: empty (no bound), an RFC 3339 time, or a
// positive Go duration counted back from now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration", s)
	}
	if d <= 0 || strings.HasPrefix(s, "-") {
		return time.Time{}, errors.New("a duration must be positive (how far back from now)")
	}
	return now.Add(-d), nil
}
