package events

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
)

// Handler runs one flow for a validated event. It never acks and never logs
// its own error: the consume loop maps the result with RetryPolicy.Decide.
// It must return soon after ctx is cancelled.
type Handler interface {
	Handle(ctx context.Context, ev Event) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, ev Event) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, ev Event) error { return f(ctx, ev) }

// ConsumerParams are what a Consumer needs.
type ConsumerParams struct {
	JS jetstream.JetStream
	// Conn carries the Mcp-Notify core publishes; nil uses JS.Conn().
	Conn   *nats.Conn
	Config Config
	// Handlers by kind; a message of a kind without one is dead-lettered.
	Handlers map[Kind]Handler
	Logger   *zap.Logger
	Metrics  *Metrics // may be nil
	// Outages is outage mode; nil holds nothing (every failure counts).
	Outages *Outages
	// Parking takes messages held for a dependency that does not pause
	// pulling (MongoDB) out of the consumer's ack-pending window; nil holds
	// them ack-pending.
	Parking Parking
	// TracerProvider makes the handler spans; nil or a no-op provider turns
	// tracing off.
	TracerProvider trace.TracerProvider
}

// Consumer pulls the durable consumer with bounded concurrency, runs the
// handlers and acknowledges each message according to RetryPolicy.Decide.
// Several replicas (Consumers) share one durable consumer.
type Consumer struct {
	js        jetstream.JetStream
	conn      *nats.Conn
	cfg       Config
	decoder   Decoder
	handlers  map[Kind]Handler
	log       *zap.Logger
	metrics   *Metrics
	telemetry telemetry
	limited   *throttle // rate-limits repeated infrastructure errors
	busy      *busyCounts
	dlqFails  *busyCounts // failed dead-letter publishes per stream sequence
	keeper    *keeper     // InProgress for long-running messages
	summary   *summary    // counts for the periodic info line
	outages   *Outages    // may be nil
	parking   Parking     // may be nil
	held      *busyCounts // deliveries held for an outage (outage_consume.go)

	// lookupDelay is the first wait before looking a vanished consumer up
	// again; it doubles up to maxLookupDelay.
	lookupDelay    time.Duration
	maxLookupDelay time.Duration
	pullExpiry     time.Duration

	running atomic.Bool // an iterator is pulling

	mu         sync.Mutex
	started    bool
	stopping   bool
	iter       jetstream.MessagesContext // current iterator, nil between two
	stopPull   chan struct{}             // closed by Stop
	pullDone   chan struct{}             // closed when the pull loop returned
	unparkDone chan struct{}             // closed when the unpark loop returned
	stopSums   chan struct{}             // closed by Stop to end the summaries
	sumsDone   chan struct{}             // closed when the last summary is written
	cancelBase context.CancelFunc        // cancels every handler's context
	work       sync.WaitGroup            // in-flight messages
	inFlight   atomic.Int64
}

// NewConsumer checks the parameters and builds a Consumer; nothing runs
// before Start.
func NewConsumer(p ConsumerParams) (*Consumer, error) {
	if p.JS == nil {
		return nil, errors.New("new consumer: no JetStream")
	}
	if err := p.Config.Validate(); err != nil {
		return nil, fmt.Errorf("new consumer: %w", err)
	}
	log := p.Logger
	if log == nil {
		log = zap.NewNop()
	}
	conn := p.Conn
	if conn == nil {
		conn = p.JS.Conn()
	}
	handlers := make(map[Kind]Handler, len(p.Handlers))
	for k, h := range p.Handlers {
		if h == nil {
			return nil, fmt.Errorf("new consumer: nil handler for %s", k)
		}
		handlers[k] = h
	}
	c := &Consumer{
		js:             p.JS,
		conn:           conn,
		cfg:            p.Config,
		decoder:        Decoder{Subjects: p.Config.Subjects(), MaxPayload: p.Config.MaxPayload},
		handlers:       handlers,
		log:            log,
		metrics:        p.Metrics,
		telemetry:      newTelemetry(p.TracerProvider, p.Metrics),
		limited:        newThrottle(30 * time.Second),
		busy:           newBusyCounts(4 * max(p.Config.MaxAckPending, 1024)),
		dlqFails:       newBusyCounts(4 * max(p.Config.MaxAckPending, 1024)),
		outages:        p.Outages,
		parking:        p.Parking,
		held:           newBusyCounts(4 * max(p.Config.MaxAckPending, 1024)),
		lookupDelay:    time.Second,
		maxLookupDelay: 30 * time.Second,
		pullExpiry:     defaultPullExpiry,
		summary:        newSummary(),
	}
	c.keeper = newKeeper(p.Config.AckWait/3, c.warnLimited)
	p.Outages.onPullingPaused(c.drainForOutage)
	return c, nil
}

// Start looks the durable consumer up (it must exist: see Provision), starts
// pulling in goroutines and returns at once. ctx bounds only the look-up; the
// goroutines run until Stop.
func (c *Consumer) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return errors.New("start consumer: already started")
	}
	cons, err := c.js.Consumer(ctx, c.cfg.Stream, c.cfg.Consumer)
	if err != nil {
		return fmt.Errorf("start consumer %s on %s: %w", c.cfg.Consumer, c.cfg.Stream, err)
	}
	c.started = true
	c.stopPull = make(chan struct{})
	c.pullDone = make(chan struct{})
	// Handlers' contexts outlive Start's ctx (an fx start timeout) but keep
	// its values; only Stop cancels them.
	base, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancelBase = cancel
	c.stopSums = make(chan struct{})
	c.sumsDone = make(chan struct{})
	c.unparkDone = make(chan struct{})
	go c.logSummaries(c.cfg.LogSummaryEvery, c.stopSums, c.sumsDone)
	if c.parking != nil {
		go c.unparkLoop(base, c.stopPull, c.unparkDone)
	} else {
		close(c.unparkDone)
	}
	go c.pull(base, cons)
	return nil
}

// Running reports whether the consumer is pulling messages (for /readyz):
// false before Start, after Stop, while the durable consumer is missing and
// while an outage pauses pulling.
func (c *Consumer) Running() bool { return c.running.Load() }

// Stop shuts the consumer down, in this order:
//  1. stop pulling: the iterator is drained, no new pull request is sent,
//     and parked events are no longer published back;
//  2. messages already fetched but not started are Nak'ed at once, so
//     another replica gets them without waiting for AckWait;
//  3. in-flight handlers may finish until ctx is done;
//  4. then their contexts are cancelled; their results map through Decide as
//     usual (a cancellation is transient: Nak, redelivered elsewhere);
//  5. the acknowledgements sent are flushed to the server (a round trip), so
//     that none is left in the client's buffer when the connection closes;
//  6. every goroutine has returned when Stop returns, and the last summary
//     line is written.
//
// Handlers must honour their context: Stop waits for them. Stopping twice,
// or before Start, is a no-op. A hit deadline is logged, not returned: the
// naked messages are redelivered, nothing is lost.
func (c *Consumer) Stop(ctx context.Context) error {
	c.mu.Lock()
	if !c.started || c.stopping {
		c.mu.Unlock()
		return nil
	}
	c.stopping = true
	close(c.stopPull)
	if c.iter != nil {
		c.iter.Drain()
	}
	c.mu.Unlock()

	// Steps 1 and 2: the pull loop naks what it had buffered, then returns.
	// Steps 3 and 4.
	handled := make(chan struct{})
	go func() {
		<-c.pullDone
		<-c.unparkDone
		c.work.Wait()
		close(handled)
	}()
	select {
	case <-handled:
	case <-ctx.Done():
		c.log.Warn("Shutdown timeout, cancelling in-flight handlers",
			zap.Int64("in_flight", c.inFlight.Load()), zap.Error(ctx.Err()))
	}
	c.cancelBase()
	<-handled
	c.keeper.close()
	// Step 5.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), apiTimeout)
	defer cancel()
	if err := c.js.Conn().FlushWithContext(fctx); err != nil {
		c.log.Warn("Flushing the last acknowledgements failed; those messages are redelivered", zap.Error(err))
	}
	// Step 6.
	close(c.stopSums)
	<-c.sumsDone
	return nil
}

// stopRequested reports whether Stop was called.
func (c *Consumer) stopRequested() bool {
	select {
	case <-c.stopPull:
		return true
	default:
		return false
	}
}
