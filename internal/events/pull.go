package events

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

const (
	// defaultPullExpiry is how long one pull request waits on the server;
	// the server sends idle heartbeats every expiry/2, so a dead pull (the
	// consumer deleted while we were disconnected) is noticed within it.
	defaultPullExpiry = 10 * time.Second
	// apiTimeout bounds JetStream API calls, acks and dead-letter publishes
	// made by the loop; they never use a handler's context.
	apiTimeout = 5 * time.Second
)

// pull runs until Stop: it pulls messages and starts one goroutine per
// message, at most Concurrency at once. When the durable consumer (or its
// stream) vanishes it looks it up again with a growing delay; reconnects are
// handled by the iterator itself.
func (c *Consumer) pull(ctx context.Context, cons jetstream.Consumer) {
	defer close(c.pullDone)
	sem := make(chan struct{}, c.cfg.Concurrency)
	for {
		// Outage mode: no pull while a dependency every flow needs is down.
		if !c.outages.waitPulling(c.stopPull) {
			return // stopping
		}
		if cons == nil {
			if cons = c.lookup(ctx); cons == nil {
				return // stopping
			}
		}
		// A small client buffer (PITFALLS): a replica takes no more than it
		// can start soon, and AckWait does not run out in the buffer.
		iter, err := cons.Messages(
			jetstream.PullMaxMessages(pullBuffer(c.cfg.Concurrency)),
			jetstream.PullExpiry(c.pullExpiry),
		)
		if err != nil {
			c.warnLimited("pull", "Pull could not start, retrying", zap.Error(err))
			cons = nil
			if !c.wait(c.lookupDelay) {
				return
			}
			continue
		}
		if !c.setIter(iter) {
			iter.Stop()
			return
		}
		c.running.Store(true)
		c.keeper.start(keepAliveEvery(c.cfg.AckWait, cons))
		c.consume(ctx, cons, iter, sem)
		c.running.Store(false)
		c.setIter(nil)
		if c.stopRequested() {
			return
		}
		if c.pausedForOutage() {
			continue // outage mode drained the iterator: the consumer is still there
		}
		cons = nil
	}
}

// consume takes messages from iter until Stop or until the iterator ends
// for good (consumer deleted, connection closed).
func (c *Consumer) consume(ctx context.Context, cons jetstream.Consumer, iter jetstream.MessagesContext, sem chan struct{}) {
	for {
		// A slot first: a message is taken only when it can start at once.
		select {
		case sem <- struct{}{}:
		case <-c.stopPull:
			c.nakBuffered(iter)
			return
		}
		msg, err := iter.Next()
		if err != nil {
			<-sem
			if c.stopRequested() {
				c.nakBuffered(iter)
				return
			}
			if c.pausedForOutage() && errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return // drained for an outage (outage_consume.go)
			}
			if c.pullEnded(ctx, cons, err) {
				iter.Stop()
				return
			}
			continue
		}
		if c.stopRequested() {
			<-sem
			c.nak(msg)
			c.nakBuffered(iter)
			return
		}
		if c.pausedForOutage() { // outage mode: taken while pulling is paused
			<-sem
			c.handBack(msg)
			// The pause may have come while no iterator was published
			// (drainForOutage had none to drain): end this one, or it
			// would keep fetching what it hands back.
			iter.Drain()
			continue
		}
		c.work.Add(1)
		go func() {
			defer c.work.Done()
			defer func() { <-sem }()
			c.process(ctx, msg)
		}()
	}
}

// pullBufferFactor sizes a replica's pull buffer in handlers. The buffer
// (PullMaxMessages) counts only messages not yet handed out: nats.go refills
// it while every handler runs, so a replica holds up to (factor+1) x
// --concurrency - 1 unacknowledged messages, and a fetched message waits
// behind up to factor rounds of handlers with its AckWait running and no
// InProgress (the keeper tracks running handlers only). At 1: at most
// 2 x --concurrency held, and a fetched message starts within one handler's
// duration. 2 measured 10-25% more warm logins/s (fewer pull requests), but
// redelivered, and ran twice, the messages buffered behind handlers slower
// than about AckWait/3 (review 9): a fewer-requests buffer must not hold more
// than one round of handlers.
const pullBufferFactor = 1

// pullBuffer is the client buffer (PullMaxMessages) of a replica running
// concurrency handlers.
func pullBuffer(concurrency int) int { return pullBufferFactor * concurrency }

// pullEnded logs a pull error (rate-limited) and reports whether the
// iterator is finished and the consumer must be looked up again.
func (c *Consumer) pullEnded(ctx context.Context, cons jetstream.Consumer, err error) bool {
	switch {
	case errors.Is(err, jetstream.ErrMsgIteratorClosed),
		errors.Is(err, jetstream.ErrConsumerDeleted),
		errors.Is(err, jetstream.ErrBadRequest):
		c.warnLimited("pull-ended", "Pull ended, looking the consumer up again", zap.Error(err))
		return true
	case errors.Is(err, jetstream.ErrNoHeartbeat):
		// Disconnected, or the consumer vanished while we were away and
		// pull requests go nowhere: ask the server which.
		ictx, cancel := context.WithTimeout(ctx, apiTimeout)
		_, ierr := cons.Info(ictx)
		cancel()
		if errors.Is(ierr, jetstream.ErrConsumerNotFound) || errors.Is(ierr, jetstream.ErrStreamNotFound) {
			c.warnLimited("pull-ended", "Pull ended, looking the consumer up again", zap.Error(ierr))
			return true
		}
		c.warnLimited("pull-heartbeat", "No heartbeat from JetStream, still pulling", zap.Error(err))
		return false
	default:
		c.warnLimited("pull-error", "Pull error, still pulling", zap.Error(err))
		return false
	}
}

// lookup finds the durable consumer again, waiting longer after each
// failure. It returns nil when Stop was called.
func (c *Consumer) lookup(ctx context.Context) jetstream.Consumer {
	delay := c.lookupDelay
	for {
		lctx, cancel := context.WithTimeout(ctx, apiTimeout)
		cons, err := c.js.Consumer(lctx, c.cfg.Stream, c.cfg.Consumer)
		cancel()
		if err == nil {
			c.log.Info("Durable consumer found, pulling",
				zap.String("stream", c.cfg.Stream), zap.String("consumer", c.cfg.Consumer))
			return cons
		}
		c.warnLimited("lookup", "Durable consumer unavailable, retrying",
			zap.String("stream", c.cfg.Stream), zap.String("consumer", c.cfg.Consumer),
			zap.Duration("retry_in", delay), zap.Error(err))
		if !c.wait(delay) {
			return nil
		}
		delay = min(2*delay, c.maxLookupDelay)
	}
}

// wait sleeps for d and reports false when Stop was called meanwhile.
func (c *Consumer) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.stopPull:
		return false
	}
}

// setIter publishes the current iterator for Stop to drain. It refuses a new
// one once Stop was called.
func (c *Consumer) setIter(iter jetstream.MessagesContext) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if iter != nil && c.stopping {
		return false
	}
	c.iter = iter
	return true
}

// nakBuffered hands back, at once, the messages the iterator fetched but
// the loop did not start (Stop drained the iterator: Next returns them, then
// ErrMsgIteratorClosed).
func (c *Consumer) nakBuffered(iter jetstream.MessagesContext) {
	iter.Drain()
	for {
		msg, err := iter.Next(jetstream.NextMaxWait(apiTimeout))
		if err != nil {
			return
		}
		c.nak(msg)
	}
}

// nak hands a message back for immediate redelivery.
func (c *Consumer) nak(msg jetstream.Msg) {
	if err := msg.Nak(); err != nil {
		c.warnLimited("nak", "Nak failed, the message comes back after AckWait", zap.Error(err))
	}
}

// keepAliveEvery is how often InProgress is sent: a third of the consumer's
// actual AckWait (which differs from the configured one when provisioning
// is off), or of the configured one if shorter.
func keepAliveEvery(configured time.Duration, cons jetstream.Consumer) time.Duration {
	ackWait := configured
	if info := cons.CachedInfo(); info != nil && info.Config.AckWait > 0 {
		ackWait = min(ackWait, info.Config.AckWait)
	}
	return max(ackWait/3, 10*time.Millisecond)
}

// warnLimited logs a repeated infrastructure error at most once per
// throttle period for its key, with how many were left out.
func (c *Consumer) warnLimited(key, msg string, fields ...zap.Field) {
	ok, dropped := c.limited.allow(key)
	if !ok {
		return
	}
	if dropped > 0 {
		fields = append(fields, zap.Int("suppressed", dropped))
	}
	c.log.Warn(msg, fields...)
}

// throttle lets one event per key through every period.
type throttle struct {
	every   time.Duration
	mu      sync.Mutex
	last    map[string]time.Time
	dropped map[string]int
}

func newThrottle(every time.Duration) *throttle {
	return &throttle{every: every, last: map[string]time.Time{}, dropped: map[string]int{}}
}

// allow reports whether key may be logged now and how many were dropped
// since it last was.
func (t *throttle) allow(key string) (bool, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if last, ok := t.last[key]; ok && now.Sub(last) < t.every {
		t.dropped[key]++
		return false, 0
	}
	t.last[key] = now
	n := t.dropped[key]
	t.dropped[key] = 0
	return true, n
}
