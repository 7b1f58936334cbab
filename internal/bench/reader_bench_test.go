package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/serverdb"
	"github.com/mcp-registry/worker/reader"
)

const (
	readerConcurrency   = 32
	readerDuration      = 3 * time.Second
	readerUnrelatedKeys = 50_000
	// librechatGetAllCmds is the reference: LibreChat's SCAN-based getAll of
	// one user's registry in a 50k-key Redis (4,825 commands, ~104 ms).
	librechatGetAllCmds = 4825
)

// BenchmarkReader: the public Go reader (reader.Effective) on one user with
// 20 private and 10 shared servers, in a Redis that also holds 50,000
// unrelated keys: reads/s at 32 concurrent readers, latency, Redis commands
// per read (INFO commandstats), without and with go-redis client-side
// caching (RESP3 tracking) turned on, against LibreChat's SCAN-based getAll.
func BenchmarkReader(b *testing.B) {
	ctx := b.Context()
	w := newWorld(b)
	warmUpServerFlows(ctx, b, w)
	user := userID("reader", 0)
	private := make([]serverdb.Server, viewPrivate)
	for i := range private {
		private[i] = serverOf(fmt.Sprintf("reader-private-%02d", i), i, baseUpdatedAt)
	}
	w.source.set(user, private)
	if err := w.login(ctx, user); err != nil {
		b.Fatal(err)
	}
	for i := range viewShared {
		name := fmt.Sprintf("reader-shared-%02d", i)
		ev := events.Event{Kind: events.KindServerShared, ServerName: name, Config: configJSON(name, 1), Version: baseUpdatedAt + 1, UpdatedAtMs: baseUpdatedAt + 1}
		if err := w.handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	fill := fillUnrelated(ctx, b, w.admin, readerUnrelatedKeys)

	t := &table{
		title: fmt.Sprintf("BenchmarkReader: reader.Effective, 1 user x (%d private + %d shared), %d unrelated keys, %d readers for %s, private redis-server, load average %s",
			viewPrivate, viewShared, readerUnrelatedKeys, readerConcurrency, readerDuration, loadAvg()),
		header: []string{"client", "reads", "reads/s", "p50 ms", "p99 ms", "Redis cmds/read", "GETs reaching Redis/read", "round trips/read", "vs LibreChat getAll cmds"},
	}
	for _, csc := range []bool{false, true} {
		opts, err := redis.ParseURL("redis://" + w.redis.Addr)
		if err != nil {
			b.Fatal(err)
		}
		opts.PoolSize = readerConcurrency
		name := "go-redis (RESP2)"
		if csc {
			opts.Protocol = 3
			opts.ClientSideCacheConfig = &redis.ClientSideCacheConfig{MaxEntries: 4096}
			name = "go-redis RESP3 + client-side cache"
		}
		rdb := redis.NewClient(opts)
		rd, err := reader.New(rdb, reader.Options{KeyPrefix: "mcp:"})
		if err != nil {
			b.Fatal(err)
		}
		// Warm: pools open, the cache (when on) filled.
		for range 3 {
			v, err := rd.Effective(ctx, user)
			if err != nil || len(v.Effective) != viewPrivate+viewShared {
				b.Fatalf("warm read: %d servers, %v", len(v.Effective), err)
			}
		}
		before, err := readCommandStats(ctx, w.admin)
		if err != nil {
			b.Fatal(err)
		}
		reads, lat := readFor(ctx, b, rd, user)
		after, err := readCommandStats(ctx, w.admin)
		if err != nil {
			b.Fatal(err)
		}
		_ = rdb.Close()
		cmds := float64(after.flowTotal()-before.flowTotal()) / float64(reads)
		gets := float64(after["get"]-before["get"]) / float64(reads)
		rts := "2"
		if gets < 0.5 {
			rts = "1 (values from the cache)"
		}
		t.row(name, num(int64(reads)), num(int64(float64(reads)/readerDuration.Seconds())),
			ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]),
			fmt.Sprintf("%.2f", cmds), fmt.Sprintf("%.2f", gets), rts,
			fmt.Sprintf("%.0fx fewer (%d)", librechatGetAllCmds/cmds, librechatGetAllCmds))
	}
	t.note("Round trips: step 1 (members, TTL, both tiers) and step 2 (the 30 values) are one pipeline each. The second row turns on go-redis's client-side cache (RESP3 tracking); a GET that reaches Redis despite it was not served from the cache (go-redis v9.23 caches single commands, not pipelined ones), and the round trips column says which happened. Commands per read do not depend on the %d unrelated keys (no SCAN; written by %s).", readerUnrelatedKeys, fill)
	t.print(os.Stdout)
}

// readFor reads user's view from readerConcurrency goroutines for
// readerDuration and returns the reads and their sorted latencies.
func readFor(ctx context.Context, b *testing.B, rd *reader.Reader, user string) (int, []time.Duration) {
	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(readerDuration)
	var wg sync.WaitGroup
	for range readerConcurrency {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(deadline) {
				start := time.Now()
				v, err := rd.Effective(ctx, user)
				if err != nil || len(v.Effective) != viewPrivate+viewShared {
					b.Errorf("read: %d servers, %v", len(v.Effective), err)
					return
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(lat) == 0 {
		b.Fatal("no read")
	}
	slices.Sort(lat)
	return len(lat), lat
}
