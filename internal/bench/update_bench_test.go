package bench

import (
	"fmt"
	"os"
	"testing"

	"github.com/mcp-registry/worker/internal/events"
)

// fanoutSizes are the numbers of users caching the updated server.
var fanoutSizes = []int{1, 100, 10_000}

// BenchmarkUpdateFanout measures one server.updated event through its flow
// for a server cached by K users: round trips, commands and wall time. It
// fails unless every one of the K users got the new value. Run it with
// -benchtime 1x.
func BenchmarkUpdateFanout(b *testing.B) {
	var t *table
	for range b.N {
		t = measureUpdateFanout(b)
	}
	t.print(os.Stdout)
}

func measureUpdateFanout(b *testing.B) *table {
	ctx := b.Context()
	w := newWorld(b)
	warmUpServerFlows(ctx, b, w)
	t := &table{
		title:  fmt.Sprintf("BenchmarkUpdateFanout: one server.updated event through the flow; the server is cached by K users (cold logins, in-memory source); load average %s", loadAvg()),
		header: []string{"users", "round trips", "commands", "Redis cmds", "ms", "users updated"},
	}
	for _, k := range fanoutSizes {
		name := fmt.Sprintf("fanout-%d", k)
		srv := serverOf(name, k, baseUpdatedAt)
		users := cacheServer(ctx, b, w, fmt.Sprintf("k%d-", k), k, &srv)
		before := value(b, srv, srv.Config, baseUpdatedAt)
		if n := countValues(ctx, b, w, users, name, before); n != k {
			b.Fatalf("K=%d: %d users cache the server after login", k, n)
		}
		ev := events.Event{Kind: events.KindServerUpdated, ServerName: name, Config: configJSON(name, 1), Version: baseUpdatedAt + 1}
		m := w.measure(ctx, b, func() error { return w.handle(ctx, ev) })
		noScan(b, m.stats, "update fan-out")
		updated := countValues(ctx, b, w, users, name, value(b, srv, ev.Config, ev.Version))
		if updated != k {
			b.Fatalf("K=%d: %d users got the new value", k, updated)
		}
		t.row(num(int64(k)), num(m.RoundTrips), num(m.Commands), num(m.redisCmds), ms(m.elapsed), num(int64(updated)))
		b.ReportMetric(float64(m.RoundTrips), fmt.Sprintf("roundtrips@%d", k))
		b.ReportMetric(float64(m.elapsed.Microseconds())/1000, fmt.Sprintf("ms@%d", k))
	}
	t.note("The server has no access record (no created or access event), as when it is known only from logins: the fan-out replaces the value where cached, %d users per pipelined chunk. Round trips and commands: go-redis hook on the flows' client (lock, record, chunks, unlock); Redis cmds: INFO commandstats, Lua included. One event each: ms is a single measurement.", 500)
	return t
}
