package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// handled is what process learnt about one message, for the log line, the
// metrics and the Mcp-Notify result.
type handled struct {
	ev       Event
	decoded  bool
	decision Decision
	outcome  string // the decision's, or retry or dropped when dead-lettering failed
	traceID  string // the handler span's trace id, or the traceparent's; "" when none
	applyErr error  // ack, nak or term failure
	dlqErr   error  // dead-letter publish failure
}

// process handles one message from receipt to acknowledgement: decode, run
// the handler (kept alive by the keeper), map the result through
// RetryPolicy.Decide, apply it, notify, log it.
func (c *Consumer) process(ctx context.Context, msg jetstream.Msg) {
	start := time.Now()
	defer c.metrics.begin()()
	c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	var h handled
	ctx, tel := c.telemetry.start(ctx, c.kindLabel(msg.Subject(), h), msg)
	defer tel.end(&h)
	h.traceID = tel.traceID

	meta, err := msg.Metadata()
	if err != nil { // cannot happen for a message from a pull consumer
		c.warnLimited("metadata", "Message without JetStream metadata, handed back", zap.Error(err))
		c.nak(msg)
		return
	}
	alive := c.keeper.add(msg)
	var herr error
	h.ev, h.decoded, herr = c.run(ctx, msg, meta)
	if herr != nil && ctx.Err() != nil {
		herr = fmt.Errorf("%w: %w", ErrShutdown, herr)
	}
	// Outage mode (outage_consume.go): a failure while a dependency the
	// event needs is down is held, not counted.
	herr = c.outages.Judge(ctx, herr)
	seq := meta.Sequence.Stream
	if dep, ok := c.parkable(herr); ok {
		// Parked: out of the ack-pending window until dep serves (parking.go).
		if perr := c.park(ctx, dep, msg, meta); perr == nil {
			herr = errParked
		} else {
			c.warnLimited("park", "A held message could not be parked, it stays held", zap.Error(perr))
		}
	}
	// A parked event published back starts with the budget it had used.
	h.decision = c.cfg.Retry.DecideAfterBusy(herr, c.budgetDeliveries(seq, meta.NumDelivered)+parkedSpent(msg), c.busy.get(seq))
	c.countFree(seq, herr, h.decision)

	// Acknowledgements get their own short deadline: the handler's may be
	// spent, and Stop cancels the base context.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), apiTimeout)
	defer cancel()
	var dlqFailures uint64
	if h.decision.Action == ActionDeadLetter {
		h.dlqErr = c.publishDeadLetter(actx, msg, meta, h.decision.Reason)
		dlqFailures = c.deadLetterFailures(seq, meta.NumDelivered, h.dlqErr)
	}
	// No InProgress may follow the ack: after a NakWithDelay it would reset
	// the redelivery timer.
	c.keeper.release(alive)
	h.outcome, h.applyErr = c.apply(actx, msg, h.decision, dlqFailures)

	var notifyErr error
	if h.applyErr == nil && h.outcome != OutcomeRetry && h.outcome != OutcomeParked {
		notifyErr = c.notify(msg, h)
	}
	took := time.Since(start)
	kind := c.kindLabel(msg.Subject(), h)
	c.metrics.observe(kind, h.outcome, took)
	c.summary.add(kind, h.outcome, took)
	c.logHandled(msg, meta, kind, h, took, notifyErr)
}

// run decodes the message and runs its handler under HandlerTimeout.
func (c *Consumer) run(ctx context.Context, msg jetstream.Msg, meta *jetstream.MsgMetadata) (Event, bool, error) {
	seq := meta.Sequence.Stream
	// A parked event published back keeps, as the version of a payload
	// without one, the sequence it was first published at (parking.go).
	ev, err := c.decoder.Decode(msg.Subject(), msg.Data(), msg.Headers().Get(HeaderMsgID), parkedSeq(msg, seq))
	if err != nil {
		if !errors.Is(err, ErrPermanent) {
			err = Permanent(err)
		}
		return Event{}, false, err
	}
	ev.StreamSeq = seq
	ev.Delivered = meta.NumDelivered
	if err := c.cfg.Limits().Check(ev); err != nil {
		return ev, true, err
	}
	h, ok := c.handlers[ev.Kind]
	if !ok {
		return ev, true, Permanentf("no handler for %s", ev.Kind)
	}
	hctx, cancel := context.WithTimeout(ctx, c.cfg.HandlerTimeout)
	defer cancel()
	return ev, true, callHandler(hctx, h, ev)
}

// callHandler runs h, turning a panic into a transient error so that one bad
// flow cannot kill the replica; the message is retried, then dead-lettered.
func callHandler(ctx context.Context, h Handler, ev Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return h.Handle(ctx, ev)
}

// apply sends the acknowledgement d asks for. A dead letter whose publish
// failed (dlqFailures > 0) is handed back with a growing delay instead of
// terminated, until deadLetterTries failures: then it is terminated with the
// outcome dropped, so that a dead letter that can never be written does not
// hold a slot of MaxAckPending forever.
func (c *Consumer) apply(ctx context.Context, msg jetstream.Msg, d Decision, dlqFailures uint64) (string, error) {
	switch d.Action {
	case ActionAck:
		// A plain ack, not DoubleAck: waiting for the server's
		// confirmation held a handler slot for a NATS round trip per
		// message. The ack is sent only after the flow's write; if it is
		// lost the message is redelivered after AckWait and applies nothing
		// twice (every flow is idempotent: versions, fences, snapshots), and
		// Stop flushes the connection so a clean shutdown loses none.
		if err := msg.Ack(); err != nil {
			return d.Outcome, fmt.Errorf("ack: %w", err)
		}
		return d.Outcome, nil
	case ActionDeadLetter:
		outcome := d.Outcome
		switch {
		case dlqFailures >= deadLetterTries:
			outcome = OutcomeDropped
		case dlqFailures > 0:
			if err := msg.NakWithDelay(c.cfg.Retry.jitter(c.cfg.Retry.backoff(dlqFailures))); err != nil {
				return OutcomeRetry, fmt.Errorf("nak: %w", err)
			}
			return OutcomeRetry, nil
		}
		if err := msg.Term(); err != nil { // not TermWithReason: nats-server 2.9 ignores it
			return outcome, fmt.Errorf("term: %w", err)
		}
		return outcome, nil
	default:
		if err := msg.NakWithDelay(d.Delay); err != nil {
			return OutcomeRetry, fmt.Errorf("nak: %w", err)
		}
		return OutcomeRetry, nil
	}
}

// deadLetterFailures records the result of a dead-letter publish of the
// message at seq and returns how many have failed: 0 after a success, and
// deadLetterTries (give up) once this replica failed that often, or once the
// delivery count is past any point where the worker would still be trying
// (other replicas' failures are not counted here).
func (c *Consumer) deadLetterFailures(seq, delivered uint64, err error) uint64 {
	if err == nil {
		c.dlqFails.forget(seq)
		return 0
	}
	c.dlqFails.add(seq)
	n := c.dlqFails.get(seq)
	last := uint64(max(c.cfg.Retry.MaxDeliver, c.cfg.Retry.BusyMaxDeliver, 0)) + deadLetterTries
	if n >= deadLetterTries || delivered >= last {
		c.dlqFails.forget(seq)
		return deadLetterTries
	}
	return n
}

// kindLabel is the metrics label of a message: its kind when known.
func (c *Consumer) kindLabel(subject string, h handled) string {
	if h.decoded {
		return string(h.ev.Kind)
	}
	if k, ok := c.decoder.Subjects.KindOf(subject); ok {
		return string(k)
	}
	return kindUnknown
}

// logHandled logs one message: dead letters and dropped messages always,
// at error; a failed ack or notify at warn (rate-limited); everything else
// one line per message at debug, and at info only in the periodic summary
// (logSummaries), so that info costs nothing per message. Never the payload
// or the config.
func (c *Consumer) logHandled(msg jetstream.Msg, meta *jetstream.MsgMetadata, kind string, h handled, took time.Duration, notifyErr error) {
	level := zapcore.DebugLevel
	switch {
	case h.outcome == OutcomeDeadLettered, h.outcome == OutcomeDropped:
		level = zapcore.ErrorLevel
	case h.applyErr != nil, h.dlqErr != nil, notifyErr != nil:
		level = zapcore.WarnLevel
	case h.outcome == OutcomeRetry:
		c.warnLimited("retry:"+kind, "Messages retried (one line per kind every 30 s; each at debug)",
			zap.String("kind", kind), zap.String("error", h.decision.Reason))
	}
	if level == zapcore.WarnLevel {
		// At most one such warning per kind every 30 s; the others at debug.
		ok, dropped := c.limited.allow("handled-warn:" + kind)
		switch {
		case !ok:
			level = zapcore.DebugLevel
		case dropped > 0:
			defer c.log.Warn("Acknowledgement or notify failures logged at debug since the last warning",
				zap.String("kind", kind), zap.Int("suppressed", dropped))
		}
	}
	if !c.log.Core().Enabled(level) {
		return
	}
	fields := make([]zap.Field, 0, 12)
	fields = append(fields,
		zap.String("subject", msg.Subject()),
		zap.Uint64("stream_seq", meta.Sequence.Stream),
		zap.Uint64("delivered", meta.NumDelivered),
	)
	if h.ev.UserID != "" {
		fields = append(fields, zap.String("user_id", h.ev.UserID))
	}
	if h.ev.ServerName != "" {
		fields = append(fields, zap.String("server", h.ev.ServerName))
	}
	if h.traceID != "" {
		fields = append(fields, zap.String("trace_id", h.traceID))
	}
	fields = append(fields, zap.Duration("duration", took), zap.String("outcome", h.outcome))
	if h.decision.Reason != "" {
		fields = append(fields, zap.String("error", h.decision.Reason))
	}
	if h.outcome == OutcomeRetry && h.applyErr == nil && h.dlqErr == nil {
		fields = append(fields, zap.Duration("retry_in", h.decision.Delay))
	}
	if h.dlqErr != nil {
		fields = append(fields, zap.NamedError("dead_letter_error", h.dlqErr))
	}
	if h.applyErr != nil {
		fields = append(fields, zap.NamedError("ack_error", h.applyErr))
	}
	if notifyErr != nil {
		fields = append(fields, zap.NamedError("notify_error", notifyErr))
	}
	c.log.Log(level, "Message handled", fields...)
}
