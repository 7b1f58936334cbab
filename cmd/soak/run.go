package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/reader"
)

// run is the whole soak; failed reports mismatches or dead letters, err a
// soak that could not run.
func run(ctx context.Context, o soakOptions) (failed bool, err error) {
	dir, temp, err := workDir(o)
	if err != nil {
		return false, err
	}
	if temp && !o.keep {
		defer func() { _ = os.RemoveAll(dir) }() // registered first: runs after every server stopped
	}
	logf := func(format string, args ...any) {
		fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	bin, err := workerBinary(o.workerBin, dir)
	if err != nil {
		return false, err
	}
	srv, err := startServers(dir)
	if err != nil {
		return false, err
	}
	defer srv.close()
	logf("servers: nats %s, redis %s, mongodb %s; data and worker logs in %s", srv.nats.URLs(), srv.redis.Addr(), srv.mongoAddr, dir)

	lc := devstack.LibreChat{DB: srv.DB()}
	users, err := seedUsers(ctx, lc, o.users)
	if err != nil {
		return false, err
	}
	logf("seeded %d users", len(users))

	nc, err := nats.Connect(srv.nats.URLs(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		return false, fmt.Errorf("connect nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return false, err
	}
	tr := newTracker()
	if _, err := tr.subscribe(nc); err != nil {
		return false, err
	}

	env := []string{
		"NATS_URL=" + srv.nats.URLs(), "REDIS_URL=" + srv.RedisURL(), "MONGODB_URI=" + srv.MongoURI,
		"MCP_WORKER_STREAM_REPLICAS=3", "MCP_WORKER_LOG_LEVEL=warn",
	}
	var workers []*worker
	defer func() {
		for _, w := range workers {
			w.stop(30 * time.Second)
		}
	}()
	for _, name := range []string{"worker-1", "worker-2"} {
		w, err := newWorker(name, bin, dir, env, o.workerArgs)
		if err != nil {
			return false, err
		}
		if err := w.start(time.Minute); err != nil {
			return false, err
		}
		workers = append(workers, w)
	}
	logf("2 workers ready (%s)", bin)

	gate := &mongoGate{up: true}
	m := newModel(o.seed, users)
	g := &generator{js: js, lc: lc, model: m, tr: tr, gate: gate, seed: o.seed}
	for range o.servers {
		ch := m.create()
		if err := g.write(ctx, ch); err != nil {
			return false, err
		}
		for _, ev := range ch.commit() {
			if err := g.publish(ev); err != nil {
				return false, err
			}
		}
	}

	in := &injector{srv: srv, workers: workers, gate: gate, stream: events.DefaultStream, logf: logf}
	logf("load: %.0f events/s for %s, seed %d, a fault every %s", o.rate, o.duration, o.seed, o.faultEvery)
	if err := drive(ctx, o, g, in); err != nil {
		return false, err
	}
	logf("load stopped after %d events; waiting for the consumer to finish", g.n)

	s, err := finish(ctx, js, srv, tr, m, in.windows)
	if err != nil {
		return false, err
	}
	s.retries = g.retries
	s.print(os.Stdout)
	return s.failed(), nil
}

// drive runs the generator for the duration and the injector alongside;
// the injector finishes the fault in progress before it returns.
func drive(ctx context.Context, o soakOptions, g *generator, in *injector) error {
	loadCtx, stopLoad := context.WithTimeout(ctx, o.duration)
	defer stopLoad()
	eg, egCtx := errgroup.WithContext(loadCtx)
	eg.Go(func() error { return g.run(egCtx, o.rate) })
	if o.faultEvery > 0 {
		eg.Go(func() error { return in.run(egCtx, o.faultEvery) })
	}
	return eg.Wait()
}

// finish waits until the consumer has nothing pending or unacknowledged,
// lets the last notices arrive, and compares Redis with the model.
func finish(ctx context.Context, js jetstream.JetStream, srv *servers, tr *tracker, m *model, windows []window) (summary, error) {
	var acked bool
	deadline := time.Now().Add(5 * time.Minute)
	for {
		cons, err := js.Consumer(ctx, events.DefaultStream, events.DefaultConsumer)
		if err == nil {
			info, err := cons.Info(ctx)
			st, serr := js.Stream(ctx, events.DefaultStream)
			if err == nil && serr == nil && info.NumPending == 0 && info.NumAckPending == 0 {
				acked = info.AckFloor.Stream == st.CachedInfo().State.LastSeq
				break
			}
		}
		if time.Now().After(deadline) {
			return summary{}, errors.New("the consumer did not settle within 5 minutes")
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // the last notices
	s := summarize(tr.snapshot(), windows)
	s.acked = acked
	dlq, err := js.Stream(ctx, events.DLQStreamFor(events.DefaultStream))
	if err != nil {
		return s, fmt.Errorf("dead-letter stream: %w", err)
	}
	s.deadLettered = int(dlq.CachedInfo().State.Msgs)

	rdb := redis.NewClient(&redis.Options{Addr: srv.redis.Addr()})
	defer func() { _ = rdb.Close() }()
	r, err := reader.New(rdb, reader.Options{KeyPrefix: "mcp:"})
	if err != nil {
		return s, err
	}
	if s.mismatches, err = compare(ctx, r, m); err != nil {
		return s, err
	}
	return s, nil
}

// workDir returns -dir, or a new temp dir (temp true).
func workDir(o soakOptions) (dir string, temp bool, err error) {
	if o.dir != "" {
		return o.dir, false, os.MkdirAll(o.dir, 0o755)
	}
	dir, err = os.MkdirTemp("", "mcp-soak-")
	return dir, true, err
}

// workerBinary returns bin, or builds ./cmd/worker into dir.
func workerBinary(bin, dir string) (string, error) {
	if bin != "" {
		return filepath.Abs(bin)
	}
	out := filepath.Join(dir, "worker")
	if b, err := exec.Command("go", "build", "-o", out, "./cmd/worker").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/worker (run from the module root): %w: %s", err, b)
	}
	return out, nil
}

// seedUsers inserts n LibreChat users (role USER, no grants).
func seedUsers(ctx context.Context, lc devstack.LibreChat, n int) ([]string, error) {
	users := make([]string, n)
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				id, err := lc.AddUser(ctx, "USER", "")
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				users[i] = id.Hex()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return users, firstErr
}
