package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/internal/serverdb"
)

const (
	loginUsers       = 20_000 // cold logins measured (each user once), then as many warm ones
	serversPerUser   = 5
	loginServerPool  = 2_000 // distinct servers the users' five are drawn from
	loginConcurrency = 32
	baseUpdatedAt    = int64(1_700_000_000_000) // the servers' updatedAt in "MongoDB"
	targetColdRate   = 6_000.0
	targetColdRT     = 6
)

// BenchmarkLogin measures the login flow: cold logins (nothing cached: lock,
// begin, read the source, claim, commit, unlock) and warm logins (the flag is
// set: one EXISTS). It prints one table; run it with -benchtime 1x.
func BenchmarkLogin(b *testing.B) {
	var t *table
	for range b.N {
		t = measureLogin(b)
	}
	t.print(os.Stdout)
}

func measureLogin(b *testing.B) *table {
	ctx := b.Context()
	w := newWorld(b)
	pool := make([]serverdb.Server, loginServerPool)
	for n := range pool {
		pool[n] = serverOf(fmt.Sprintf("srv-%04d", n), n, baseUpdatedAt)
	}
	serversOf := func(i int) []serverdb.Server {
		s := make([]serverdb.Server, serversPerUser)
		for j := range s {
			s[j] = pool[(i+j*(loginServerPool/serversPerUser))%loginServerPool]
		}
		return s
	}
	users := make([]string, loginUsers)
	for i := range users {
		users[i] = userID("c", i)
		w.source.set(users[i], serversOf(i))
	}
	// Not measured: as in a running worker, the Lua scripts are cached in
	// Redis and the connection pool is open.
	warm := make([]string, 2*loginConcurrency)
	for i := range warm {
		warm[i] = userID("w", i)
		w.source.set(warm[i], serversOf(i))
	}
	if _, err := runConcurrent(ctx, warm, loginConcurrency, w.login); err != nil {
		b.Fatalf("warm-up logins: %v", err)
	}

	var cold, warmRun runResult
	coldM := w.measure(ctx, b, func() (err error) {
		cold, err = runConcurrent(ctx, users, loginConcurrency, w.login)
		return err
	})
	checkLoaded(ctx, b, w, users, serversPerUser)
	warmM := w.measure(ctx, b, func() (err error) {
		warmRun, err = runConcurrent(ctx, users, loginConcurrency, w.login)
		return err
	})

	t := &table{
		title: fmt.Sprintf("BenchmarkLogin: %s users x %d servers (drawn from %s), %d goroutines, in-memory source, private redis-server, GOMAXPROCS=%d, go-redis default options (pool %d), load average %s",
			num(loginUsers), serversPerUser, num(loginServerPool), loginConcurrency, runtime.GOMAXPROCS(0), w.rdb.Options().PoolSize, loadAvg()),
		header: []string{"case", "logins", "seconds", "logins/s", "p50 ms", "p99 ms", "round trips/login", "commands/login", "Redis cmds/login", "Redis CPU µs/login", "worker CPU µs/login", "DESIGN target", "met"},
	}
	coldRate := float64(loginUsers) / cold.elapsed.Seconds()
	warmRate := float64(loginUsers) / warmRun.elapsed.Seconds()
	for _, c := range []struct {
		name   string
		run    runResult
		m      measured
		rate   float64
		target string
		met    bool
	}{
		{
			"cold", cold, coldM, coldRate, fmt.Sprintf(">= %s/s, <= %d round trips", num(targetColdRate), targetColdRT),
			coldRate >= targetColdRate && coldM.RoundTrips <= targetColdRT*loginUsers,
		},
		{"warm", warmRun, warmM, warmRate, "1 round trip", warmM.RoundTrips == loginUsers},
	} {
		p := percentiles(c.run.latencies, 0.50, 0.99)
		t.row(c.name, num(loginUsers), fmt.Sprintf("%.2f", c.run.elapsed.Seconds()), num(int64(c.rate)),
			ms(p[0]), ms(p[1]), per(c.m.RoundTrips, loginUsers), per(c.m.Commands, loginUsers),
			per(c.m.redisCmds, loginUsers), perMicro(c.m.redisCPU, loginUsers), perMicro(c.m.goCPU, loginUsers), c.target, yesNo(c.met))
	}
	t.note("Round trips and commands are counted by a go-redis hook on the flows' client (exact totals: cold %s round trips, %s commands; warm %s round trips; connections opened meanwhile, not counted: %d cold, %d warm); Redis cmds are INFO commandstats calls, including the commands Lua scripts run.",
		num(coldM.RoundTrips), num(coldM.Commands), num(warmM.RoundTrips), coldM.Dials, warmM.Dials)
	t.note("Redis commands per cold login: %s", breakdown(coldM.stats, loginUsers))
	t.note("Ceilings from the CPU columns (cold): Redis alone, one core to itself, %s logins/s; the worker, per core, %s logins/s. Both share this machine's %d cores with each other and with whatever else runs (load average above).",
		num(int64(float64(loginUsers)/coldM.redisCPU.Seconds())), num(int64(float64(loginUsers)/coldM.goCPU.Seconds())), runtime.NumCPU())
	t.note("Targets are printed, not enforced. Source reads cost nothing here (in-memory): add MongoDB's latency for a real cold login.")
	b.ReportMetric(coldRate, "cold_logins/s")
	b.ReportMetric(float64(coldM.RoundTrips)/loginUsers, "cold_roundtrips/login")
	b.ReportMetric(warmRate, "warm_logins/s")
	b.ReportMetric(float64(warmM.RoundTrips)/loginUsers, "warm_roundtrips/login")
	return t
}

// checkLoaded fails b unless every user is loaded with want servers.
func checkLoaded(ctx context.Context, b *testing.B, w *world, users []string, want int) {
	b.Helper()
	k := w.reg.Keys()
	for chunk := range slices.Chunk(users, 5_000) {
		flags := make([]*redis.IntCmd, len(chunk))
		sizes := make([]*redis.IntCmd, len(chunk))
		if _, err := w.admin.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, u := range chunk {
				flags[i] = p.Exists(ctx, k.UserMembers(u))
				sizes[i] = p.HLen(ctx, k.UserMembers(u))
			}
			return nil
		}); err != nil {
			b.Fatalf("check loaded: %v", err)
		}
		for i, u := range chunk {
			if flags[i].Val() != 1 || sizes[i].Val() != int64(want)+1 { // +1: the loaded mark
				b.Fatalf("user %s: loaded %d, %d servers, want loaded with %d", u, flags[i].Val(), sizes[i].Val(), want)
			}
		}
	}
}

// breakdown lists the flow commands Redis ran, per unit, by name.
func breakdown(s cmdStats, units int64) string {
	names := make([]string, 0, len(s))
	for name := range s {
		if !notFlowCommand(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	out := ""
	for i, name := range names {
		if i > 0 {
			out += ", "
		}
		out += name + " " + per(s[name], units)
	}
	return out
}
