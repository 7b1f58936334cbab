package bench

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/serverdb"
)

const (
	memUsers          = 5_000
	memServersPerUser = 20
	memTargetRatio    = 0.15
)

// memPools are the numbers of distinct servers the users' 20 are drawn from
// (target 2). Layout 2 stores a server's value once and spreads its holder
// index over registry.HolderBuckets hashes, so its bytes per entry depend on
// how many users share a server: 250, 25 and 2.5 holders per bucket here.
var memPools = []int{20, 200, 2_000}

// memCase is target 2 for one pool: used_memory growth of each layout.
type memCase struct {
	pool               int
	entries            int64
	layout2, reference int64 // used_memory growth, bytes
	layout2Keys, refKs int64
}

func (c memCase) ratio() float64 { return float64(c.layout2) / float64(c.reference) }

// measureMemory runs target 2: for each pool, 5,000 users with 20 servers
// each (300-byte configs) are loaded by cold logins, layout 2 in one private
// redis-server and the reference in another; the growth of INFO memory
// used_memory is divided by the (user, server) entries.
func measureMemory(b *testing.B) ([]memCase, *table) {
	ctx := b.Context()
	var cases []memCase
	for _, pool := range memPools {
		servers := make([]serverdb.Server, pool)
		for n := range servers {
			servers[n] = serverOf(fmt.Sprintf("mem-%04d", n), n, baseUpdatedAt)
			servers[n].Config = config300(servers[n].Name, 0)
		}
		users := make([]string, memUsers)
		sources := make([][]serverdb.Server, memUsers)
		for i := range users {
			users[i] = userID("m", i)
			sources[i] = make([]serverdb.Server, memServersPerUser)
			for j := range sources[i] {
				sources[i][j] = servers[(i+j*(pool/memServersPerUser))%pool]
			}
		}
		c := memCase{pool: pool, entries: memUsers * memServersPerUser}

		w := newWorld(b)
		warmUpServerFlows(ctx, b, w)
		for i, u := range users {
			w.source.set(u, sources[i])
		}
		c.layout2, c.layout2Keys = memoryGrowth(ctx, b, w.admin, func() error {
			_, err := runConcurrent(ctx, users, loginConcurrency, w.login)
			return err
		})
		checkLoaded(ctx, b, w, users, memServersPerUser)
		w.redis.Stop()

		rw := newWorld(b)
		ref := newReference(b, rw)
		warmUpReference(ctx, b, rw, ref)
		for i, u := range users {
			rw.source.set(u, sources[i])
		}
		c.reference, c.refKs = memoryGrowth(ctx, b, rw.admin, func() error {
			_, err := runConcurrent(ctx, users, loginConcurrency, ref.login)
			return err
		})
		checkRefLoaded(ctx, b, ref, users, sources)
		rw.redis.Stop()
		cases = append(cases, c)
	}

	t := &table{
		title: fmt.Sprintf("Target 2: Redis memory per (user, server) entry, %s users x %d servers, 300-byte configs, by cold logins; layout 2 and the reference each in a private redis-server; load average %s",
			num(memUsers), memServersPerUser, loadAvg()),
		header: []string{
			"servers in pool", "holders/server", "entries", "layout 2 keys", "layout 2 used_memory growth", "layout 2 bytes/entry",
			"reference keys", "reference used_memory growth", "reference bytes/entry", "layout 2 / reference", "target", "met",
		},
	}
	for _, c := range cases {
		t.row(num(int64(c.pool)), num(c.entries/int64(c.pool)), num(c.entries), num(c.layout2Keys), mib(c.layout2), per(c.layout2, c.entries),
			num(c.refKs), mib(c.reference), per(c.reference, c.entries), fmt.Sprintf("%.1f%%", 100*c.ratio()),
			fmt.Sprintf("<= %.0f%%", 100*memTargetRatio), yesNo(c.ratio() <= memTargetRatio))
	}
	t.note("Growth of INFO memory used_memory over the logins (after the warm-up), everything each layout keeps included: layout 2's members hashes (loaded marks), holder-index buckets (%d per server), server records and values; the reference's value keys, flags and holder sets. Keys: DBSIZE growth. TTLs as in production (%s cache TTL).",
		registry.HolderBuckets, registry.DefaultConfig().CacheTTL)
	t.note("User i holds servers (i + j*pool/20) mod pool, j < 20, so every server has the same number of holders.")
	return cases, t
}

// memoryGrowth runs fn and returns the growth of used_memory and of DBSIZE.
func memoryGrowth(ctx context.Context, b *testing.B, admin *redis.Client, fn func() error) (bytes, keys int64) {
	b.Helper()
	before, k0 := usedMemory(ctx, b, admin), admin.DBSize(ctx).Val()
	if err := fn(); err != nil {
		b.Fatal(err)
	}
	return usedMemory(ctx, b, admin) - before, admin.DBSize(ctx).Val() - k0
}

// usedMemory returns INFO memory used_memory.
func usedMemory(ctx context.Context, tb testing.TB, admin *redis.Client) int64 {
	tb.Helper()
	info, err := admin.Info(ctx, "memory").Result()
	if err != nil {
		tb.Fatalf("info memory: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				tb.Fatalf("used_memory %q: %v", v, err)
			}
			return n
		}
	}
	tb.Fatal("info memory: no used_memory")
	return 0
}

// checkRefLoaded fails tb unless every user has the reference's flag, a
// value key per server and is in each server's holder set.
func checkRefLoaded(ctx context.Context, tb testing.TB, ref *reference, users []string, sources [][]serverdb.Server) {
	tb.Helper()
	flags := make([]*redis.IntCmd, len(users))
	vals := make([]*redis.IntCmd, len(users))
	held := make([][]*redis.BoolCmd, len(users))
	_, err := ref.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range users {
			flags[i] = p.Exists(ctx, refFlagKey(u))
			keys := make([]string, len(sources[i]))
			for j, s := range sources[i] {
				keys[j] = refValueKey(u, s.Name)
				held[i] = append(held[i], p.SIsMember(ctx, refHoldersKey(s.Name), u))
			}
			vals[i] = p.Exists(ctx, keys...)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("check reference: %v", err)
	}
	for i, u := range users {
		n := 0
		for _, h := range held[i] {
			if h.Val() {
				n++
			}
		}
		if flags[i].Val() != 1 || vals[i].Val() != int64(len(sources[i])) || n != len(sources[i]) {
			tb.Fatalf("reference user %s: flag %d, %d values, %d holder entries, want %d", u, flags[i].Val(), vals[i].Val(), n, len(sources[i]))
		}
	}
}
