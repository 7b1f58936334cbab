package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/mcp-registry/worker/internal/serverdb"
)

const (
	consumeUsers     = 20_000 // warm logins per burst
	consumeColdUsers = 10_000 // cold logins per side
	targetWarmRate   = 20_000.0
	targetColdShare  = 0.90
	targetReplicas   = 1.6
	targetSustainP99 = 20 * time.Millisecond
)

// BenchmarkConsume measures the consume loop: logins published to JetStream
// (each with Mcp-Notify) and handled by the worker's replicas, against the
// same flows called in-process in the same run. See doc.go.
func BenchmarkConsume(b *testing.B) {
	for range b.N {
		measureConsume(b)
	}
}

func measureConsume(b *testing.B) {
	ctx := b.Context()
	w := newWorld(b)
	pool := make([]serverdb.Server, loginServerPool)
	for n := range pool {
		pool[n] = serverOf(fmt.Sprintf("srv-%04d", n), n, baseUpdatedAt)
	}
	setUsers := func(set string, n int) []string {
		users := make([]string, n)
		for i := range users {
			users[i] = userID(set, i)
			servers := make([]serverdb.Server, serversPerUser)
			for j := range servers {
				servers[j] = pool[(i+j*(loginServerPool/serversPerUser))%loginServerPool]
			}
			w.source.set(users[i], servers)
		}
		return users
	}
	warmUsers := setUsers("w", consumeUsers)
	if _, err := runConcurrent(ctx, warmUsers, loginConcurrency, w.login); err != nil {
		b.Fatalf("loading the warm users: %v", err)
	}
	one := newPipeline(b, w, 1)
	conc := one.cfg.Concurrency

	// Warm: in-process, then through JetStream, then the same profiled.
	warmIn, err := runConcurrent(ctx, warmUsers, conc, w.login)
	if err != nil {
		b.Fatal(err)
	}
	var warmJS runResult
	warmM := w.measure(ctx, b, func() error {
		warmJS = one.burst(ctx, b, warmUsers)
		return nil
	})
	profiles := profileDir(b)
	stopProfiles := startProfiles(b, filepath.Join(profiles, "warm"))
	one.burst(ctx, b, warmUsers)
	stopProfiles()

	// Cold: fresh users each side, in-process first, in alternated halves.
	coldA, coldB := setUsers("ca", consumeColdUsers), setUsers("cb", consumeColdUsers)
	half := consumeColdUsers / 2
	var coldIn, coldJS runResult
	var coldInCPU, coldJSCPU cpuShare
	var coldNATSCPU time.Duration
	for k := range 2 {
		coldInCPU.add(w.measure(ctx, b, func() error {
			r, err := runConcurrent(ctx, coldA[k*half:(k+1)*half], conc, w.login)
			coldIn = joinRuns(coldIn, r)
			return err
		}))
		natsBefore := one.server.cpu()
		coldJSCPU.add(w.measure(ctx, b, func() error {
			coldJS = joinRuns(coldJS, one.burst(ctx, b, coldB[k*half:(k+1)*half]))
			return nil
		}))
		coldNATSCPU += one.server.cpu() - natsBefore
	}
	checkLoaded(ctx, b, w, coldB, serversPerUser)
	coldC := setUsers("cc", consumeColdUsers/2)
	stopProfiles = startProfiles(b, filepath.Join(profiles, "cold"))
	one.burst(ctx, b, coldC)
	stopProfiles()

	// Two replicas on one durable consumer (their own nats-server).
	two := newPipeline(b, w, 2)
	two.burst(ctx, b, warmUsers[:conc]) // opens the second replica's pools
	var oneAgain, twoRun runResult
	var oneCPU, twoCPU cpuShare
	var oneNATSCPU, twoNATSCPU time.Duration
	for range 2 {
		natsBefore := one.server.cpu()
		oneCPU.add(w.measure(ctx, b, func() error {
			oneAgain = joinRuns(oneAgain, one.burst(ctx, b, warmUsers))
			return nil
		}))
		oneNATSCPU += one.server.cpu() - natsBefore
		natsBefore = two.server.cpu()
		twoCPU.add(w.measure(ctx, b, func() error {
			twoRun = joinRuns(twoRun, two.burst(ctx, b, warmUsers))
			return nil
		}))
		twoNATSCPU += two.server.cpu() - natsBefore
	}

	// Sustained rates.
	sustain := sustainDuration()
	type sustained struct {
		rate    int
		run     runResult
		samples []lagSample
	}
	var runs []sustained
	for _, rate := range []int{5_000, 10_000, 20_000} {
		r, s := one.sustain(ctx, b, warmUsers, rate, sustain)
		runs = append(runs, sustained{rate, r, s})
	}

	warmRate := rate(warmJS)
	coldShare := rate(coldJS) / rate(coldIn)
	replicaGain := rate(twoRun) / rate(oneAgain)
	rt := float64(warmM.RoundTrips) / float64(consumeUsers)
	t := &table{
		title: fmt.Sprintf("BenchmarkConsume: logins through JetStream (nats-server %s in its own process, file store) with Mcp-Notify on every event, one replica at --concurrency %d, in-memory source, private redis-server, GOMAXPROCS=%d, load average %s",
			natsVersion(one.conn), conc, runtime.GOMAXPROCS(0), loadAvg()),
		header: []string{"scenario", "events", "events/s", "p50", "p99", "vs in-process", "target", "met"},
	}
	row := func(name string, r runResult, ref float64, target string, met string) {
		p := percentiles(r.latencies, 0.5, 0.99)
		vs := "-"
		if ref > 0 {
			vs = fmt.Sprintf("%.2fx", rate(r)/ref)
		}
		t.row(name, num(int64(len(r.latencies))), fmt.Sprintf("%.0f", rate(r)), ms(p[0]), ms(p[1]), vs, target, met)
	}
	row(fmt.Sprintf("warm in-process (%d goroutines)", conc), warmIn, 0, "-", "-")
	row("warm through JetStream", warmJS, rate(warmIn), fmt.Sprintf(">= %s/s, 1 RT (measured %.2f RT)", num(int64(targetWarmRate)), rt),
		yesNo(warmRate >= targetWarmRate && rt <= 1.0001))
	row(fmt.Sprintf("cold in-process (%d goroutines)", conc), coldIn, 0, "-", "-")
	row("cold through JetStream", coldJS, rate(coldIn), fmt.Sprintf(">= %.0f%% of in-process", 100*targetColdShare), yesNo(coldShare >= targetColdShare))
	row("warm, 1 replica (alternated with the next)", oneAgain, 0, "-", "-")
	row("warm, 2 replicas on one consumer", twoRun, rate(oneAgain), fmt.Sprintf(">= %.1fx one replica", targetReplicas), yesNo(replicaGain >= targetReplicas))
	for _, s := range runs {
		p := percentiles(s.run.latencies, 0.99)
		target, met := "-", "-"
		if s.rate == 10_000 {
			target, met = "p99 < "+ms(targetSustainP99), yesNo(p[0] < targetSustainP99)
		}
		row(fmt.Sprintf("sustained %s/s for %s", num(int64(s.rate)), sustain), s.run, 0, target, met)
	}
	t.note("Latency is publish-to-result (the Mcp-Notify message received by the publisher). A burst's p50/p99 include queueing behind the burst; the sustained rows show service latency at a fixed rate.")
	t.note("Cold logins, CPU per login: this process %s µs in-process, %s µs through JetStream (replica + publisher); redis-server %s µs and %s µs; nats-server %s µs through JetStream; cores busy: this process %s and %s, redis-server %s and %s, nats-server %.2f. In-process total %s µs, through JetStream %s µs: with the %d cores busy, the rate ratio follows the CPU ratio (%.2f).",
		perMicro(coldInCPU.goCPU, consumeColdUsers), perMicro(coldJSCPU.goCPU, consumeColdUsers),
		perMicro(coldInCPU.redisCPU, consumeColdUsers), perMicro(coldJSCPU.redisCPU, consumeColdUsers),
		perMicro(coldNATSCPU, consumeColdUsers),
		coldInCPU.cores(false), coldJSCPU.cores(false), coldInCPU.cores(true), coldJSCPU.cores(true),
		coldNATSCPU.Seconds()/coldJSCPU.wall.Seconds(),
		perMicro(coldInCPU.goCPU+coldInCPU.redisCPU, consumeColdUsers),
		perMicro(coldJSCPU.goCPU+coldJSCPU.redisCPU+coldNATSCPU, consumeColdUsers), runtime.NumCPU(),
		float64(coldInCPU.goCPU+coldInCPU.redisCPU)/float64(coldJSCPU.goCPU+coldJSCPU.redisCPU+coldNATSCPU))
	t.note("Warm logins, CPU per login through JetStream: this process %s µs (replica + publisher), redis-server %s µs.",
		perMicro(warmM.goCPU, consumeUsers), perMicro(warmM.redisCPU, consumeUsers))
	t.note("Round trips: the worker's Redis round trips during the warm JetStream burst divided by its events (%s round trips, %s commands).", num(warmM.RoundTrips), num(warmM.Commands))
	t.note("Two replicas: one process, each replica with its own NATS connection, sharing %d cores with nats-server, redis-server and the publisher. CPU busy during the bursts (cores): this process (replicas + publisher) %s with one replica, %s with two; nats-server %.2f and %.2f; redis-server %s and %s. Redis used %s µs of CPU per warm login (its own core's ceiling: %s logins/s), so Redis is not the limit here; the %d cores are.",
		runtime.NumCPU(), oneCPU.cores(false), twoCPU.cores(false),
		oneNATSCPU.Seconds()/oneCPU.wall.Seconds(), twoNATSCPU.Seconds()/twoCPU.wall.Seconds(),
		oneCPU.cores(true), twoCPU.cores(true),
		perMicro(warmM.redisCPU, consumeUsers), ceiling(warmM.redisCPU, consumeUsers), runtime.NumCPU())
	t.print(os.Stdout)

	lag := &table{title: "BenchmarkConsume: consumer lag (pending + ack pending) during the sustained runs, sampled every second", header: []string{"rate", "lag by second"}}
	for _, s := range runs {
		var cells []string
		for _, smp := range s.samples {
			cells = append(cells, num(int64(smp.pending+smp.ackPending)))
		}
		lag.row(num(int64(s.rate))+"/s", strings.Join(cells, " "))
	}
	lag.print(os.Stdout)
	printProfiles(profiles)
}

// cpuShare sums the CPU time and wall time of measured runs.
type cpuShare struct{ goCPU, redisCPU, wall time.Duration }

func (c *cpuShare) add(m measured) {
	c.goCPU += m.goCPU
	c.redisCPU += m.redisCPU
	c.wall += m.elapsed
}

// cores is the average number of cores busy: redis-server's or this process's.
func (c cpuShare) cores(redis bool) string {
	if c.wall <= 0 {
		return "-"
	}
	cpu := c.goCPU
	if redis {
		cpu = c.redisCPU
	}
	return fmt.Sprintf("%.2f", cpu.Seconds()/c.wall.Seconds())
}

func natsVersion(nc *nats.Conn) string { return nc.ConnectedServerVersion() }

func rate(r runResult) float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(len(r.latencies)) / r.elapsed.Seconds()
}

func joinRuns(a, b runResult) runResult {
	return runResult{elapsed: a.elapsed + b.elapsed, latencies: append(a.latencies, b.latencies...)}
}

func ceiling(cpu time.Duration, n int64) string {
	if cpu <= 0 {
		return "-"
	}
	return num(int64(float64(n) / cpu.Seconds()))
}

// sustainDuration is how long each sustained rate runs: 30 s, or
// MCP_BENCH_SUSTAIN (a Go duration) for a quicker look.
func sustainDuration() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("MCP_BENCH_SUSTAIN")); err == nil && d > 0 {
		return d
	}
	return 30 * time.Second
}

// profileDir is where the warm burst's profiles go: MCP_BENCH_PROFILES, else
// a fresh temporary directory (kept, its path printed).
func profileDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("MCP_BENCH_PROFILES"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
		return d
	}
	d, err := os.MkdirTemp("", "mcp-bench-profiles-")
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// startProfiles starts the CPU profile and mutex and block sampling; the
// returned function writes cpu.pprof, mutex.pprof and block.pprof to dir.
func startProfiles(tb testing.TB, dir string) func() {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	cpu, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		tb.Fatal(err)
	}
	runtime.SetMutexProfileFraction(10)
	runtime.SetBlockProfileRate(int(10 * time.Microsecond))
	return func() {
		pprof.StopCPUProfile()
		_ = cpu.Close()
		for _, name := range []string{"mutex", "block"} {
			f, err := os.Create(filepath.Join(dir, name+".pprof"))
			if err != nil {
				tb.Fatal(err)
			}
			if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
				tb.Fatal(err)
			}
			_ = f.Close()
		}
		runtime.SetMutexProfileFraction(0)
		runtime.SetBlockProfileRate(0)
	}
}

// printProfiles prints the top entries of each profile (go tool pprof).
func printProfiles(root string) {
	for _, phase := range []string{"warm", "cold"} {
		dir := filepath.Join(root, phase)
		fmt.Printf("\n### BenchmarkConsume: profiles of a %s burst through JetStream (%s)\n", phase, dir)
		printProfile(dir)
	}
}

func printProfile(dir string) {
	for _, p := range []struct{ name, sample string }{{"cpu", ""}, {"mutex", "delay"}, {"block", "delay"}} {
		args := []string{"tool", "pprof", "-top", "-nodecount=15"}
		if p.sample != "" {
			args = append(args, "-sample_index="+p.sample)
		}
		args = append(args, filepath.Join(dir, p.name+".pprof"))
		out, err := exec.Command("go", args...).CombinedOutput()
		fmt.Printf("\n%s profile (go %s):\n```\n%s```\n", p.name, strings.Join(args, " "), out)
		if err != nil {
			fmt.Printf("pprof: %v\n", err)
		}
	}
}
