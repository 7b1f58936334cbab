package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// warmUpServerFlows runs a login, then an update, an access, a shared and a
// deleted event on a server of its own, so that every Lua script the measured
// flows use is cached in Redis (a running worker's steady state: the first
// call of a script after a Redis start costs an extra round trip or two for
// NOSCRIPT).
func warmUpServerFlows(ctx context.Context, tb testing.TB, w *world) {
	tb.Helper()
	user, name := userID("warm", 0), "warm-up"
	w.source.set(user, []serverdb.Server{serverOf(name, 0, baseUpdatedAt)})
	steps := []events.Event{
		{Kind: events.KindUserLogin, UserID: user},
		{Kind: events.KindServerUpdated, ServerName: name, Config: configJSON(name, 1), Version: baseUpdatedAt + 1, UpdatedAtMs: baseUpdatedAt + 1},
		{Kind: events.KindServerAccess, ServerName: name, AllowedUserIDs: []string{user}, Config: configJSON(name, 2), Version: baseUpdatedAt + 2, UpdatedAtMs: baseUpdatedAt + 2},
		{Kind: events.KindServerShared, ServerName: name, Config: configJSON(name, 3), Version: baseUpdatedAt + 3, UpdatedAtMs: baseUpdatedAt + 3},
		{Kind: events.KindServerDeleted, ServerName: name, Version: baseUpdatedAt + 4, UpdatedAtMs: baseUpdatedAt + 4},
	}
	for _, ev := range steps {
		if err := w.handle(ctx, ev); err != nil {
			tb.Fatalf("warm-up %s: %v", ev.Kind, err)
		}
	}
}

// cacheServer gives each of n new users (ids from set) the one server srv in
// the source and logs them in (cold, concurrently), so that srv is cached by
// all of them. It returns the users.
func cacheServer(ctx context.Context, tb testing.TB, w *world, set string, n int, srv *serverdb.Server) []string {
	tb.Helper()
	users := make([]string, n)
	for i := range users {
		users[i] = userID(set, i)
		if srv != nil {
			w.source.set(users[i], []serverdb.Server{*srv})
		}
	}
	if _, err := runConcurrent(ctx, users, loginConcurrency, w.login); err != nil {
		tb.Fatalf("load %d users: %v", n, err)
	}
	return users
}

// countValues returns how many users hold server with the value want (want
// nil: how many do not hold the server at all). The value is stored once, in
// the server's value key; users hold membership.
func countValues(ctx context.Context, tb testing.TB, w *world, users []string, server string, want []byte) int {
	tb.Helper()
	k := w.reg.Keys()
	value, err := w.admin.Get(ctx, k.ServerValue(server)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		tb.Fatalf("read value: %v", err)
	}
	n := 0
	for chunk := range slices.Chunk(users, 10_000) {
		cmds := make([]*redis.StringCmd, len(chunk))
		_, err := w.admin.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, u := range chunk {
				cmds[i] = p.HGet(ctx, k.UserMembers(u), server)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			tb.Fatalf("read registries: %v", err)
		}
		for _, c := range cmds {
			held := c.Val() != "" && c.Val()[0] != '-'
			switch {
			case want == nil && !held:
				n++
			case want != nil && held && value == string(want):
				n++
			}
		}
	}
	return n
}

// value is the server's one value for srv after an event carrying config at
// version (the benchmarks' events carry UpdatedAtMs = Version, so the value's
// updatedAt is the version, not the worker's clock).
func value(tb testing.TB, srv serverdb.Server, config []byte, version int64) []byte {
	tb.Helper()
	v, err := registry.Value(config, srv.DBID, version)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// noScan fails tb when Redis ran SCAN or KEYS (SSCAN of one set is fine).
func noScan(tb testing.TB, s cmdStats, what string) {
	tb.Helper()
	for name, calls := range s {
		if name == "scan" || name == "keys" {
			tb.Fatalf("%s ran %s %d times", what, strings.ToUpper(name), calls)
		}
	}
}

// loadAvg returns the machine's load averages (1, 5, 15 min), for the table
// headers: the numbers mean little on a busy machine.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return fmt.Sprintf("%s %s %s", f[0], f[1], f[2])
}
