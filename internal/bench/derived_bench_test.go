package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/handlers"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// streamedACL is an AccessSource whose one server is shared with n users,
// streamed in chunks of 1,000 ids made on the fly: like serverdb's cursor, it
// never holds the whole share.
type streamedACL struct {
	set string
	n   int
}

func (s streamedACL) AllowedUsers(_ context.Context, _, _ string, fn func([]string) error) (bool, error) {
	chunk := make([]string, 0, 1000)
	for i := range s.n {
		chunk = append(chunk, userID(s.set, i))
		if len(chunk) == cap(chunk) || i == s.n-1 {
			if err := fn(chunk); err != nil {
				return false, err
			}
			chunk = chunk[:0]
		}
	}
	return false, nil
}

func (streamedACL) GroupMembers(context.Context, string, string, func([]string) error) error {
	return nil
}

func (streamedACL) GroupServers(context.Context, string, string) ([]string, error) { return nil, nil }

// BenchmarkDerivedGrant100k: a server.access event without allowedUserIds
// whose share (a 100,000-member group in MongoDB's ACL) is derived by a
// streaming source: time, Redis commands per user and peak heap growth; it
// fails unless exactly the 100,000 loaded members gained the server.
func BenchmarkDerivedGrant100k(b *testing.B) {
	ctx := b.Context()
	w := newWorld(b)
	warmUpServerFlows(ctx, b, w)
	users := cacheServer(ctx, b, w, "h", bigFanoutUsers, nil)
	name := "derived-100k"
	srv := serverdb.Server{Name: name, Config: configJSON(name, 1)}
	flow := handlers.NewServerFlow(events.KindServerAccess, w.reg, lockstatus.New(w.rdb, lockstatus.DefaultConfig()),
		nil, streamedACL{set: "h", n: bigFanoutUsers})
	ev := events.Event{Kind: events.KindServerAccess, ServerName: name, Config: srv.Config, Version: 1, UpdatedAtMs: 1, DeriveAccess: true}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := heapPeak(heapSampleStep)
	m := w.measure(ctx, b, func() error { return flow.Handle(ctx, ev) })
	peak := stop()
	noScan(b, m.stats, "derived grant")
	verified := countValues(ctx, b, w, users, name, value(b, srv, srv.Config, 1))
	if verified != bigFanoutUsers {
		b.Fatalf("derived grant: %d of %d users got the server", verified, bigFanoutUsers)
	}
	growth := int64(peak) - int64(before.HeapInuse)
	t := &table{
		title:  fmt.Sprintf("BenchmarkDerivedGrant100k: server.access without allowedUserIds, share derived from a %s-member ACL (streamed in chunks of 1,000); load average %s", num(bigFanoutUsers), loadAvg()),
		header: []string{"event", "users", "ms", "round trips", "Redis cmds", "Redis cmds/user", "heap in use before", "peak heap growth", "users verified"},
	}
	t.row("derived grant", num(bigFanoutUsers), ms(m.elapsed), num(m.RoundTrips), num(m.redisCmds), per(m.redisCmds, bigFanoutUsers),
		mib(int64(before.HeapInuse)), mib(growth), num(int64(verified)))
	t.note("The allowed set is staged in Redis chunk by chunk, swapped in by apply_record, then granted by walking it in chunks of 500: the worker never holds the share (compare the listed grant of BenchmarkFanout100k, whose event alone holds 100,000 ids). Redis commands per user: %s", breakdown(m.stats, bigFanoutUsers))
	t.print(os.Stdout)
	b.ReportMetric(float64(growth)/(1<<20), "MiB_peak_growth")
}
