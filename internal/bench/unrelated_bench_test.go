package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/internal/events"
)

const (
	unrelatedUsers   = 100
	unrelatedKeys    = 1_000_000
	updateRounds     = 100
	unrelatedPrefix  = "mcp:unrelated" // under the registry's own prefix: the worst case for a SCAN MATCH
	fillScriptChunks = 100_000
)

// fillScript sets keys ARGV[3]:ARGV[1] .. ARGV[3]:ARGV[2] (the fallback when
// DEBUG is disabled, as it is by default since Redis 7.0).
var fillScript = redis.NewScript(`for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  redis.call('SET', ARGV[3] .. ':' .. i, 'unrelated value')
end
return 1`)

// BenchmarkUnrelatedKeys measures the same server.updated fan-out to 100
// users in two identical setups, one with no unrelated keys in Redis and one
// with 1,000,000, alternating the updates between them in one run so that
// the machine's load affects both alike. It fails if a flow ran SCAN or KEYS,
// or if the round trips differ between the two. Run it with -benchtime 1x.
func BenchmarkUnrelatedKeys(b *testing.B) {
	var t *table
	for range b.N {
		t = measureUnrelatedKeys(b)
	}
	t.print(os.Stdout)
}

// unrelatedSide is one of the two setups.
type unrelatedSide struct {
	w      *world
	users  []string
	probe  *probe
	m      measured
	lat    []time.Duration
	dbsize int64
}

const probeServer = "unrelated-probe"

func measureUnrelatedKeys(b *testing.B) *table {
	ctx := b.Context()
	srv := serverOf(probeServer, 1, baseUpdatedAt)
	sides := make([]*unrelatedSide, 2)
	for i := range sides {
		w := newWorld(b)
		warmUpServerFlows(ctx, b, w)
		sides[i] = &unrelatedSide{w: w, users: cacheServer(ctx, b, w, "u", unrelatedUsers, &srv)}
	}
	empty, full := sides[0], sides[1]
	fillStart := time.Now()
	method := fillUnrelated(ctx, b, full.w.admin, unrelatedKeys)
	fillTime := time.Since(fillStart)

	for _, s := range sides {
		s.probe = s.w.start(ctx, b)
	}
	for r := range updateRounds {
		version := baseUpdatedAt + int64(r) + 1
		ev := events.Event{Kind: events.KindServerUpdated, ServerName: probeServer, Config: configJSON(probeServer, r+1), Version: version, UpdatedAtMs: version}
		order := []*unrelatedSide{empty, full}
		if r%2 == 1 {
			order = []*unrelatedSide{full, empty}
		}
		for _, s := range order {
			t0 := time.Now()
			if err := s.w.handle(ctx, ev); err != nil {
				b.Fatalf("update %d: %v", r, err)
			}
			s.lat = append(s.lat, time.Since(t0))
		}
	}
	last := value(b, srv, configJSON(probeServer, updateRounds), baseUpdatedAt+updateRounds)
	for _, s := range sides {
		s.m = s.probe.stop(ctx, b)
		noScan(b, s.m.stats, "update fan-out")
		if n := countValues(ctx, b, s.w, s.users, probeServer, last); n != unrelatedUsers {
			b.Fatalf("%d of %d users hold the last update", n, unrelatedUsers)
		}
		s.dbsize = s.w.admin.DBSize(ctx).Val()
	}
	if empty.m.RoundTrips != full.m.RoundTrips {
		b.Fatalf("round trips depend on unrelated keys: %d with none, %d with %d", empty.m.RoundTrips, full.m.RoundTrips, unrelatedKeys)
	}
	return unrelatedTable(b, empty, full, method, fillTime)
}

func unrelatedTable(b *testing.B, empty, full *unrelatedSide, method string, fillTime time.Duration) *table {
	t := &table{
		title: fmt.Sprintf("BenchmarkUnrelatedKeys: %d server.updated events, each reaching %d users, alternated between a Redis with 0 and one with %s unrelated keys; load average %s",
			updateRounds, unrelatedUsers, num(unrelatedKeys), loadAvg()),
		header: []string{"unrelated keys", "keys in Redis", "round trips/update", "commands/update", "Redis cmds/update", "median ms", "p90 ms", "SCAN+KEYS calls"},
	}
	for _, c := range []struct {
		label string
		s     *unrelatedSide
	}{{"0", empty}, {num(unrelatedKeys), full}} {
		p := percentiles(c.s.lat, 0.5, 0.9)
		t.row(c.label, num(c.s.dbsize), per(c.s.m.RoundTrips, updateRounds), per(c.s.m.Commands, updateRounds),
			per(c.s.m.redisCmds, updateRounds), ms(p[0]), ms(p[1]), num(c.s.m.stats["scan"]+c.s.m.stats["keys"]))
	}
	ratio := float64(percentiles(full.lat, 0.5)[0]) / float64(percentiles(empty.lat, 0.5)[0])
	t.note("Time ratio in this run, median with %s unrelated keys / median with 0: %.2f. Round trips: %s = %s in total.",
		num(unrelatedKeys), ratio, num(empty.m.RoundTrips), num(full.m.RoundTrips))
	t.note("Two private redis-servers set up alike (warm-up, %d users caching %q by cold logins); the unrelated keys, named %s:<n> under the registry's prefix, were filled by %s in %.1f s.",
		unrelatedUsers, probeServer, unrelatedPrefix, method, fillTime.Seconds())
	b.ReportMetric(ratio, "time_ratio_1M/0")
	b.ReportMetric(float64(full.m.RoundTrips)/updateRounds, "roundtrips/update")
	return t
}

// fillUnrelated adds n keys that no flow touches, by DEBUG POPULATE when the
// server allows it, else by a Lua loop. It returns the method used.
func fillUnrelated(ctx context.Context, tb testing.TB, admin *redis.Client, n int) string {
	tb.Helper()
	before := admin.DBSize(ctx).Val()
	method := "DEBUG POPULATE"
	if err := admin.Do(ctx, "DEBUG", "POPULATE", n, unrelatedPrefix, 16).Err(); err != nil {
		if !strings.Contains(strings.ToLower(err.Error()), "debug") {
			tb.Fatalf("debug populate: %v", err)
		}
		method = fmt.Sprintf("a Lua loop of SETs (%s a script; DEBUG is disabled)", num(fillScriptChunks))
		for lo := 0; lo < n; lo += fillScriptChunks {
			hi := min(lo+fillScriptChunks, n) - 1
			if err := fillScript.Run(ctx, admin, nil, lo, hi, unrelatedPrefix).Err(); err != nil {
				tb.Fatalf("fill unrelated keys: %v", err)
			}
		}
	}
	if got := admin.DBSize(ctx).Val() - before; got != int64(n) {
		tb.Fatalf("fill unrelated keys: %d added, want %d", got, n)
	}
	return method
}
