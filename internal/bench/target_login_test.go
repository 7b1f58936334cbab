package bench

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mcp-registry/worker/internal/serverdb"
)

const (
	coldUsers      = 10_000 // cold logins per side
	coldBlock      = 1_000  // logins per alternated block
	coldTargetRT   = 5
	coldTargetCmds = 20
)

// coldSide is one side of target 3: layout 2's login flow or the reference loader.
type coldSide struct {
	name  string
	login func(ctx context.Context, user string) error
	hook  *counter
	m     measured // summed over the blocks
	lat   []time.Duration
}

func (s *coldSide) add(m measured, run runResult) {
	s.m.RoundTrips += m.RoundTrips
	s.m.Commands += m.Commands
	s.m.redisCmds += m.redisCmds
	s.m.elapsed += m.elapsed
	s.m.redisCPU += m.redisCPU
	s.m.goCPU += m.goCPU
	if s.m.stats == nil {
		s.m.stats = cmdStats{}
	}
	for k, v := range m.stats {
		s.m.stats[k] += v
	}
	s.lat = append(s.lat, run.latencies...)
}

func (s *coldSide) rate() float64 { return float64(coldUsers) / s.m.elapsed.Seconds() }

// measureColdLogin runs target 3: the same users (5 servers each, drawn from
// 2,000) cold-logged in by layout 2's flow and by the reference loader on one
// redis-server, in blocks of 1,000 alternated between the two sides so that
// the machine's load hits both alike.
func measureColdLogin(b *testing.B) (layout2, ref *coldSide, t *table) {
	ctx := b.Context()
	w := newWorld(b)
	warmUpServerFlows(ctx, b, w)
	r := newReference(b, w)
	warmUpReference(ctx, b, w, r)
	pool := make([]serverdb.Server, loginServerPool)
	for n := range pool {
		pool[n] = serverOf(fmt.Sprintf("cold-%04d", n), n, baseUpdatedAt)
	}
	serversOf := func(i int) []serverdb.Server {
		s := make([]serverdb.Server, serversPerUser)
		for j := range s {
			s[j] = pool[(i+j*(loginServerPool/serversPerUser))%loginServerPool]
		}
		return s
	}
	// Not measured: users whose servers cover the whole pool, so that every
	// server has its record and value, as in a running worker.
	warm := make([]string, loginServerPool/serversPerUser)
	for i := range warm {
		warm[i] = userID("tw", i)
		w.source.set(warm[i], serversOf(i))
	}
	layout2 = &coldSide{name: "layout 2", login: w.login, hook: w.hook}
	ref = &coldSide{name: "reference", login: r.login, hook: r.hook}
	for _, s := range []*coldSide{layout2, ref} {
		if _, err := runConcurrent(ctx, warm, loginConcurrency, s.login); err != nil {
			b.Fatalf("%s warm-up logins: %v", s.name, err)
		}
	}
	users := make([]string, coldUsers)
	for i := range users {
		users[i] = userID("tc", i)
		w.source.set(users[i], serversOf(i+7))
	}
	blk := 0
	for chunk := range slices.Chunk(users, coldBlock) {
		order := []*coldSide{layout2, ref}
		if blk%2 == 1 {
			order = []*coldSide{ref, layout2}
		}
		blk++
		for _, s := range order {
			var run runResult
			m := w.measureOn(ctx, b, s.hook, func() (err error) {
				run, err = runConcurrent(ctx, chunk, loginConcurrency, s.login)
				return err
			})
			s.add(m, run)
		}
	}
	checkLoaded(ctx, b, w, users, serversPerUser)
	sources := make([][]serverdb.Server, len(users))
	for i := range users {
		sources[i] = serversOf(i + 7)
	}
	checkRefLoaded(ctx, b, r, users, sources)

	t = &table{
		title: fmt.Sprintf("Target 3: cold logins, %s users x %d servers (drawn from %s, all known), %d goroutines, layout 2 and the reference loader on one redis-server in alternated blocks of %s; load average %s",
			num(coldUsers), serversPerUser, num(loginServerPool), loginConcurrency, num(coldBlock), loadAvg()),
		header: []string{"loader", "logins/s", "p50 ms", "p99 ms", "round trips/login", "commands/login", "Redis cmds/login", "Redis CPU µs/login", "worker CPU µs/login"},
	}
	for _, s := range []*coldSide{layout2, ref} {
		p := percentiles(s.lat, 0.5, 0.99)
		t.row(s.name, num(int64(s.rate())), ms(p[0]), ms(p[1]), per(s.m.RoundTrips, coldUsers), per(s.m.Commands, coldUsers),
			per(s.m.redisCmds, coldUsers), perMicro(s.m.redisCPU, coldUsers), perMicro(s.m.goCPU, coldUsers))
	}
	t.note("Redis commands per cold login, layout 2: %s", breakdown(layout2.m.stats, coldUsers))
	t.note("Redis commands per cold login, reference: %s (expected %d for %d servers)", breakdown(ref.m.stats, coldUsers), referenceLoginCommands(serversPerUser), serversPerUser)
	t.note("Rates: logins / summed wall time of the side's blocks. CPU: INFO cpu of redis-server and getrusage of this process over the side's blocks. The in-memory source costs nothing: add MongoDB's latency to both.")
	return layout2, ref, t
}
