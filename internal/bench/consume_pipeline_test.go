package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/logging"
)

// pipeline is the worker's consume path as `worker run` builds it, minus fx:
// a nats-server process (natsProcess) with the provisioned stream and durable consumer,
// replicas (events.Consumer, each on its own NATS connection) running the
// world's flows, the production JSON logger at info writing to /dev/null,
// and the consume-loop metrics. Results come back through Mcp-Notify.
type pipeline struct {
	w        *world
	url      string
	server   *natsProcess
	conn     *nats.Conn
	cfg      events.Config
	pub      jetstream.JetStream
	replicas []*events.Consumer

	mu      sync.Mutex
	pending map[int]time.Time // notify index -> publish time
	lat     []time.Duration
	bad     []string // results that were not "done"
	gotAll  chan struct{}
	want    int
	next    atomic.Int64
}

func newPipeline(tb testing.TB, w *world, replicas int) *pipeline {
	tb.Helper()
	ctx := tb.Context()
	server := startNATSProcess(tb)
	url := server.URL
	connect := func() *nats.Conn {
		nc, err := nats.Connect(url, nats.MaxReconnects(-1))
		if err != nil {
			tb.Fatalf("connect nats: %v", err)
		}
		tb.Cleanup(nc.Close)
		return nc
	}
	conn := connect()
	admin, err := jetstream.New(conn)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := events.DefaultConfig()
	cfg.Stream, cfg.DLQStream, cfg.Consumer = "BENCH", "BENCH_DLQ", "bench"
	if n, err := strconv.Atoi(os.Getenv("MCP_BENCH_CONCURRENCY")); err == nil && n > 0 {
		cfg.Concurrency = n
		cfg.MaxAckPending = max(cfg.MaxAckPending, 4*n)
	}
	if err := events.Provision(ctx, admin, cfg); err != nil {
		tb.Fatalf("provision: %v", err)
	}
	pub, err := jetstream.New(conn, jetstream.WithPublishAsyncMaxPending(1<<16))
	if err != nil {
		tb.Fatal(err)
	}
	p := &pipeline{w: w, url: url, server: server, conn: conn, cfg: cfg, pub: pub, pending: map[int]time.Time{}}
	// Results arrive on a connection of their own: the publishing one
	// already reads a PubAck per event, and one connection's reader is one
	// goroutine, which would cap the load generator below the replicas.
	results := connect()
	sub, err := results.Subscribe("_INBOX.bench.>", p.result)
	if err != nil {
		tb.Fatalf("subscribe: %v", err)
	}
	if err := results.Flush(); err != nil { // the server knows the interest before any result
		tb.Fatalf("subscribe: %v", err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		tb.Fatalf("pending limits: %v", err)
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = devNull.Close() })
	for r := range replicas {
		// Each replica beyond the first gets flows of its own (registry,
		// locks, Redis client), as a replica process would; the first uses
		// the world's, whose Redis traffic the world counts.
		flows := w.flows
		if r > 0 {
			flows = w.replicaFlows(tb)
		}
		js, err := jetstream.New(connect())
		if err != nil {
			tb.Fatal(err)
		}
		c, err := events.NewConsumer(events.ConsumerParams{
			JS: js, Config: cfg, Handlers: flows, Logger: productionLogger(tb, devNull),
			Metrics: events.NewMetrics(nil),
		})
		if err != nil {
			tb.Fatal(err)
		}
		if err := c.Start(ctx); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = c.Stop(sctx)
		})
		p.replicas = append(p.replicas, c)
	}
	return p
}

// productionLogger is the logger `worker run` builds for --log-format json
// at info, writing to w.
func productionLogger(tb testing.TB, w *os.File) *zap.Logger {
	tb.Helper()
	log, err := logging.New("json", "info", w)
	if err != nil {
		tb.Fatal(err)
	}
	return log
}

// expect resets the result bookkeeping for n events.
func (p *pipeline) expect(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending = make(map[int]time.Time, n)
	p.lat = make([]time.Duration, 0, n)
	p.bad = nil
	p.want = n
	p.gotAll = make(chan struct{})
}

// publish sends one login of user, with Mcp-Notify naming its index.
func (p *pipeline) publish(user string) error {
	i := int(p.next.Add(1))
	m := nats.NewMsg(p.cfg.Subjects().For(events.KindUserLogin))
	m.Data = fmt.Appendf(nil, `{"userId":%q}`, user)
	m.Header.Set(events.HeaderNotify, "_INBOX.bench."+strconv.Itoa(i))
	m.Header.Set(events.HeaderMsgID, "bench-"+strconv.Itoa(i))
	p.mu.Lock()
	p.pending[i] = time.Now()
	p.mu.Unlock()
	_, err := p.pub.PublishMsgAsync(m)
	return err
}

// result records one Mcp-Notify result.
func (p *pipeline) result(m *nats.Msg) {
	now := time.Now()
	i, err := strconv.Atoi(m.Subject[strings.LastIndexByte(m.Subject, '.')+1:])
	p.mu.Lock()
	defer p.mu.Unlock()
	at, ok := p.pending[i]
	if err != nil || !ok {
		return
	}
	delete(p.pending, i)
	p.lat = append(p.lat, now.Sub(at))
	if !strings.Contains(string(m.Data), `"outcome":"done"`) {
		p.bad = append(p.bad, string(m.Data))
	}
	if len(p.lat) == p.want {
		close(p.gotAll)
	}
}

// burst publishes a login for every user as fast as the client can and waits
// for every result; it returns the time from the first publish to the last
// result and each event's publish-to-result latency.
func (p *pipeline) burst(ctx context.Context, tb testing.TB, users []string) runResult {
	tb.Helper()
	p.expect(len(users))
	start := time.Now()
	for _, u := range users {
		if err := p.publish(u); err != nil {
			tb.Fatalf("publish: %v", err)
		}
	}
	p.wait(ctx, tb)
	return p.collect(tb, time.Since(start))
}

// wait waits for every expected result (at most 2 minutes).
func (p *pipeline) wait(ctx context.Context, tb testing.TB) {
	tb.Helper()
	select {
	case <-p.pub.PublishAsyncComplete():
	case <-time.After(time.Minute):
		tb.Fatal("publishes not acknowledged within a minute")
	}
	select {
	case <-p.gotAll:
	case <-ctx.Done():
		tb.Fatal(ctx.Err())
	case <-time.After(2 * time.Minute):
		p.mu.Lock()
		got := len(p.lat)
		p.mu.Unlock()
		tb.Fatalf("%d of %d results within 2 minutes", got, p.want)
	}
}

func (p *pipeline) collect(tb testing.TB, elapsed time.Duration) runResult {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.bad) > 0 {
		tb.Fatalf("%d events not done, first: %s", len(p.bad), p.bad[0])
	}
	return runResult{elapsed: elapsed, latencies: p.lat}
}

// lagSample is the durable consumer's backlog at one moment.
type lagSample struct {
	at                  time.Duration
	pending, ackPending uint64
}

// sustain publishes logins of users (cycled) at rate per second for d, then
// waits for every result; it samples the consumer's lag every second.
func (p *pipeline) sustain(ctx context.Context, tb testing.TB, users []string, rate int, d time.Duration) (runResult, []lagSample) {
	tb.Helper()
	total := int(int64(rate) * int64(d) / int64(time.Second))
	p.expect(total)
	cons, err := p.pub.Consumer(ctx, p.cfg.Stream, p.cfg.Consumer)
	if err != nil {
		tb.Fatal(err)
	}
	var samples []lagSample
	start := time.Now()
	sampleDone := make(chan struct{})
	stopSampling := make(chan struct{})
	go func() {
		defer close(sampleDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-t.C:
				ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
				info, err := cons.Info(ictx)
				cancel()
				if err == nil {
					samples = append(samples, lagSample{at: time.Since(start), pending: info.NumPending, ackPending: uint64(info.NumAckPending)})
				}
			}
		}
	}()
	sent := 0
	tick := time.NewTicker(time.Millisecond)
	for sent < total {
		<-tick.C
		due := min(total, int(float64(rate)*time.Since(start).Seconds()))
		for ; sent < due; sent++ {
			if err := p.publish(users[sent%len(users)]); err != nil {
				tb.Fatalf("publish: %v", err)
			}
		}
	}
	tick.Stop()
	p.wait(ctx, tb)
	close(stopSampling)
	<-sampleDone
	return p.collect(tb, time.Since(start)), samples
}
