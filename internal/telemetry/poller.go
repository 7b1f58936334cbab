package telemetry

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.uber.org/zap"
)

// pollTimeout bounds each look-up of one poll.
const pollTimeout = 5 * time.Second

// PollerParams are what a Poller needs.
type PollerParams struct {
	JS                    jetstream.JetStream
	Stream, Consumer, DLQ string
	LoadedUsers           func(ctx context.Context) (int64, error)
	Every                 time.Duration
	Registerer            prometheus.Registerer
	Logger                *zap.Logger
}

// Poller reads, every Every (not per scrape: a scrape storm costs nothing),
// what no event says: the durable consumer's pending and ack-pending counts,
// the dead-letter stream's size and the number of loaded users, into gauges:
//   - mcp_worker_consumer_pending, mcp_worker_consumer_ack_pending,
//     mcp_worker_consumer_redelivered: the shared consumer, as JetStream
//     reports it (every replica reports the same: aggregate with max)
//   - mcp_worker_dead_letter_messages, mcp_worker_dead_letter_bytes
//   - mcp_worker_loaded_users: users of the index of loaded users whose
//     registry has not expired
//   - mcp_worker_poll_errors_total{source}: failed polls (consumer, dlq,
//     loaded_users); the gauges keep their last value
type Poller struct {
	p         PollerParams
	pending   prometheus.Gauge
	ackPend   prometheus.Gauge
	redeliv   prometheus.Gauge
	dlqMsgs   prometheus.Gauge
	dlqBytes  prometheus.Gauge
	loaded    prometheus.Gauge
	errs      *prometheus.CounterVec
	lastPoll  prometheus.Gauge
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	errLogged map[string]bool
}

// NewPoller creates the gauges and registers them; nothing runs before Start.
func NewPoller(p PollerParams) *Poller {
	if p.Logger == nil {
		p.Logger = zap.NewNop()
	}
	f := promauto.With(p.Registerer)
	g := func(name, help string) prometheus.Gauge {
		return f.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	return &Poller{
		p:        p,
		pending:  g("mcp_worker_consumer_pending", "Events of the stream not yet delivered to the durable consumer (polled)."),
		ackPend:  g("mcp_worker_consumer_ack_pending", "Events delivered to the durable consumer and not yet acknowledged, retries waiting included (polled)."),
		redeliv:  g("mcp_worker_consumer_redelivered", "Events of the durable consumer delivered more than once and not yet acknowledged (polled)."),
		dlqMsgs:  g("mcp_worker_dead_letter_messages", "Dead letters held by the dead-letter stream (polled)."),
		dlqBytes: g("mcp_worker_dead_letter_bytes", "Size of the dead-letter stream in bytes (polled)."),
		loaded:   g("mcp_worker_loaded_users", "Users whose registry is loaded and not expired, from the index of loaded users (polled)."),
		lastPoll: g("mcp_worker_poll_timestamp_seconds", "Unix time of this replica's last poll of JetStream and Redis."),
		errs: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_worker_poll_errors_total",
			Help: "Failed polls by source (consumer, dlq, loaded_users); the gauges keep their last value.",
		}, []string{"source"}),
		errLogged: map[string]bool{},
	}
}

// Start polls once at once, then every Every, in one goroutine until Stop.
func (p *Poller) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.wg.Go(func() {
		t := time.NewTicker(p.p.Every)
		defer t.Stop()
		for {
			p.Poll(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}

// Stop ends the polls and waits for the running one.
func (p *Poller) Stop() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}

// Poll reads everything once. A failed source is counted, logged once until
// it recovers, and leaves its gauges as they were.
func (p *Poller) Poll(ctx context.Context) {
	p.result("consumer", p.pollConsumer(ctx))
	p.result("dlq", p.pollDLQ(ctx))
	if p.p.LoadedUsers != nil {
		p.result("loaded_users", p.pollLoaded(ctx))
	}
	p.lastPoll.SetToCurrentTime()
}

func (p *Poller) pollConsumer(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	c, err := p.p.JS.Consumer(ctx, p.p.Stream, p.p.Consumer)
	if err != nil {
		return err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return err
	}
	p.pending.Set(float64(info.NumPending))
	p.ackPend.Set(float64(info.NumAckPending))
	p.redeliv.Set(float64(info.NumRedelivered))
	return nil
}

func (p *Poller) pollDLQ(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	s, err := p.p.JS.Stream(ctx, p.p.DLQ)
	if err != nil {
		return err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return err
	}
	p.dlqMsgs.Set(float64(info.State.Msgs))
	p.dlqBytes.Set(float64(info.State.Bytes))
	return nil
}

func (p *Poller) pollLoaded(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	n, err := p.p.LoadedUsers(ctx)
	if err != nil {
		return err
	}
	p.loaded.Set(float64(n))
	return nil
}

// result counts a failure and logs a source's first failure and its
// recovery, not every poll of an outage.
func (p *Poller) result(source string, err error) {
	if err == nil {
		if p.errLogged[source] {
			p.p.Logger.Info("Metrics poll recovered", zap.String("source", source))
			p.errLogged[source] = false
		}
		return
	}
	p.errs.WithLabelValues(source).Inc()
	if !p.errLogged[source] {
		p.p.Logger.Warn("Metrics poll failed", zap.String("source", source), zap.Error(err))
		p.errLogged[source] = true
	}
}
