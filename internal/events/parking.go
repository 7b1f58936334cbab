package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Parking keeps events that wait for a paused dependency outside
// JetStream. A held message (NakWithDelay) stays ack-pending on the shared
// durable consumer; during a long outage of a dependency only some events
// need (MongoDB: cold logins), enough held messages would fill the
// consumer's MaxAckPending and JetStream would deliver nothing else to any
// replica: warm logins and revokes would stall behind them. So a message
// held for such a dependency is parked instead: written to the parking
// (Redis, which is up: the message got as far as needing MongoDB), then
// acknowledged. When the dependency serves again, parked events are
// published back to the stream (unparkLoop) and handled as new messages.
//
// Parking is at least once: an entry is removed only after its
// republication was acknowledged by JetStream, under a Nats-Msg-Id derived
// from the original message (two replicas replaying one entry publish it
// once within the duplicate window; after it, twice: every flow is
// idempotent). A message that cannot be parked is held as before.
type Parking interface {
	// Park stores entry for dep; an error leaves the message held.
	Park(ctx context.Context, dep Dependency, entry []byte) error
	// Parked returns up to n entries of dep, oldest first, without removing them.
	Parked(ctx context.Context, dep Dependency, n int) ([][]byte, error)
	// Unpark removes one entry (by value).
	Unpark(ctx context.Context, dep Dependency, entry []byte) error
}

// OutcomeParked is a message acknowledged after it was parked for a paused
// dependency: it comes back as a new message when the dependency serves.
// No Mcp-Notify result is sent for it (the republished message sends one).
const OutcomeParked = "parked"

// errParked is the result of a message parked by the consume loop: Decide
// acknowledges it with the outcome parked.
var errParked = errors.New("parked until its dependency serves again")

// parkedEvent is one parking entry: what is needed to publish the message
// again, never more (its headers but JetStream's own).
type parkedEvent struct {
	Subject string      `json:"subject"`
	Data    []byte      `json:"data"`
	Header  nats.Header `json:"header,omitempty"`
	MsgID   string      `json:"msgId,omitempty"`
	Seq     uint64      `json:"seq"`
	At      time.Time   `json:"at"`
	// Spent is the delivery budget the message had used (counted
	// failures, earlier laps included): published back as HeaderParkedSpent,
	// so that an event that always fails cannot renew its budget by going
	// round the parking (review 7).
	Spent uint64 `json:"spent,omitempty"`
	// VersionSeq is the stream sequence of the message as first published
	// (earlier laps included): published back as HeaderParkedSeq, so that an
	// event without a payload version keeps its version (its first stream
	// sequence) instead of taking the new, higher one, which would make it
	// newer than every event published while it was parked (review 8).
	VersionSeq uint64 `json:"versionSeq,omitempty"`
}

// HeaderParkedSpent carries, on a parked event published back, the delivery
// budget it had used before. The budget of its deliveries starts there. A
// publisher setting it can only make its own event dead-letter sooner.
const HeaderParkedSpent = "Mcp-Parked-Spent"

// HeaderParkedSeq carries, on a parked event published back, the stream
// sequence it was first published at: the version of an event whose payload
// has none. It is honoured only below the message's own sequence, so a
// publisher setting it can only make its own unversioned event older (as
// a payload version could).
const HeaderParkedSeq = "Mcp-Parked-Seq"

// parkedSeq reads HeaderParkedSeq: the stream sequence to take as the
// version of an unversioned event delivered at seq (seq itself when the
// header is absent, invalid or not below seq).
func parkedSeq(msg jetstream.Msg, seq uint64) uint64 {
	v := msg.Headers().Get(HeaderParkedSeq)
	if v == "" {
		return seq
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n == 0 || n >= seq {
		return seq
	}
	return n
}

// maxParkedSpent bounds HeaderParkedSpent as read (a hostile value).
const maxParkedSpent = 1 << 20

// maxParkedEntry is the largest event parked; a larger one stays held. Cold
// logins, refreshes and group changes are a few hundred bytes; the cap
// bounds the parking's memory (MaxParked entries of the registry's parking).
const maxParkedEntry = 16 << 10

// parkedSpent reads HeaderParkedSpent: 0 when absent or invalid.
func parkedSpent(msg jetstream.Msg) uint64 {
	v := msg.Headers().Get(HeaderParkedSpent)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0
	}
	return min(n, maxParkedSpent)
}

const (
	// unparkEvery is how often a replica looks for parked events of
	// dependencies that serve again.
	unparkEvery = time.Second
	// unparkBatch is how many entries one look takes; they are published
	// together (asynchronously), then removed one by one as acknowledged.
	unparkBatch = 500
)

// parkable reports the dependency an OutageError holds herr for, when the
// message may be parked: a dependency that does not pause pulling.
func (c *Consumer) parkable(herr error) (Dependency, bool) {
	if c.parking == nil {
		return "", false
	}
	oe, ok := errors.AsType[*OutageError](herr)
	if !ok || c.outages.pausesPulling(oe.Dep) {
		return "", false
	}
	return oe.Dep, true
}

// park writes msg to the parking of dep.
func (c *Consumer) park(ctx context.Context, dep Dependency, msg jetstream.Msg, meta *jetstream.MsgMetadata) error {
	h := forwardableHeaders(msg.Headers(), 0)
	if len(msg.Data()) > maxParkedEntry {
		return fmt.Errorf("park: a %d-byte event is over the parking's %d bytes", len(msg.Data()), maxParkedEntry)
	}
	// This delivery failed on the paused dependency: held, not counted.
	spent := parkedSpent(msg) + c.budgetDeliveries(meta.Sequence.Stream, meta.NumDelivered) - 1
	p := parkedEvent{
		Subject: msg.Subject(), Data: msg.Data(), Header: h,
		MsgID: msg.Headers().Get(HeaderMsgID), Seq: meta.Sequence.Stream, At: time.Now().UTC(),
		Spent: spent, VersionSeq: parkedSeq(msg, meta.Sequence.Stream),
	}
	// Published back, the message carries a longer Nats-Msg-Id and
	// Nats-Expected-Stream: one that would then be over the server's max
	// payload could never come back (and would block the entries behind
	// it), so it stays held.
	if out := c.republishMsg(p); out.Size()-len(out.Subject) > int(c.js.Conn().MaxPayload()) {
		return fmt.Errorf("park: %w: %d bytes published back", nats.ErrMaxPayload, out.Size()-len(out.Subject))
	}
	entry, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("park: %w", err)
	}
	if err := c.parking.Park(ctx, dep, entry); err != nil {
		return fmt.Errorf("park for %s: %w", dep, err)
	}
	c.metrics.parkedEvent(dep)
	return nil
}

// unparkLoop publishes parked events back while their dependency serves,
// until stop is closed.
func (c *Consumer) unparkLoop(ctx context.Context, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(unparkEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			for _, dep := range c.outages.parkableDeps() {
				if c.outages.Check(dep) == nil {
					c.unpark(ctx, dep)
				}
			}
		}
	}
}

// unpark publishes one batch of dep's parked events back to the stream:
// all of them at once, then each is removed once JetStream acknowledged it.
// An entry that can never be published (over the max payload) is kept and
// skipped, so that it does not hold back the others; any other failure ends
// the batch (the rest is retried next time).
func (c *Consumer) unpark(ctx context.Context, dep Dependency) {
	actx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	entries, err := c.parking.Parked(actx, dep, unparkBatch)
	if err != nil {
		c.warnLimited("unpark", "Parked events could not be read, retrying", zap.String("dependency", string(dep)), zap.Error(err))
		return
	}
	type sent struct {
		entry []byte
		ack   jetstream.PubAckFuture // nil: dropped (not the worker's), remove it
	}
	var out []sent
	for _, entry := range entries {
		if c.stopRequested() {
			break // Stop waits for this loop: no more publishes
		}
		msg, ok := c.parkedMsg(entry)
		if !ok {
			out = append(out, sent{entry: entry})
			continue
		}
		ack, err := c.js.PublishMsgAsync(msg)
		if errors.Is(err, nats.ErrMaxPayload) {
			// Never publishable: kept, but it must not block the others.
			c.log.Error("A parked event is over the max payload published back, kept and skipped", zap.String("dependency", string(dep)), zap.Error(err))
			continue
		} else if err != nil {
			c.warnLimited("unpark", "A parked event could not be published back, retrying", zap.String("dependency", string(dep)), zap.Error(err))
			break
		}
		out = append(out, sent{entry: entry, ack: ack})
	}
	published := 0
	for _, s := range out {
		if s.ack != nil {
			select {
			case <-s.ack.Ok():
			case err := <-s.ack.Err():
				c.warnLimited("unpark", "A parked event could not be published back, retrying", zap.String("dependency", string(dep)), zap.Error(err))
				continue
			case <-actx.Done():
				c.warnLimited("unpark", "Parked events not acknowledged in time, retrying", zap.String("dependency", string(dep)), zap.Error(actx.Err()))
				return
			}
			published++
		}
		if err := c.parking.Unpark(actx, dep, s.entry); err != nil {
			c.warnLimited("unpark", "A published parked event could not be removed, it may come twice", zap.String("dependency", string(dep)), zap.Error(err))
			return
		}
		if s.ack != nil {
			c.metrics.unparkedEvent(dep)
		}
	}
	if published > 0 {
		c.log.Info("Parked events published back", zap.String("dependency", string(dep)), zap.Int("events", published))
	}
}

// parkedMsg decodes one parking entry into the message to publish; false for
// an entry that is not the worker's (not JSON, or a subject that is no event
// of this worker: the parking lives in Redis), logged as an error and to be
// dropped.
func (c *Consumer) parkedMsg(entry []byte) (*nats.Msg, bool) {
	var p parkedEvent
	if err := json.Unmarshal(entry, &p); err != nil {
		c.log.Error("Parked entry is not one the worker wrote, dropped", zap.Error(err))
		return nil, false
	}
	if _, ok := c.decoder.Subjects.KindOf(p.Subject); !ok || !validSubject(p.Subject) {
		c.log.Error("Parked entry names a subject that is no event of this worker, dropped", zap.String("subject", p.Subject))
		return nil, false
	}
	return c.republishMsg(p), true
}

// republishMsg is the message unpark publishes for p (the entry's headers
// are filtered again: the parking lives in Redis).
func (c *Consumer) republishMsg(p parkedEvent) *nats.Msg {
	h := forwardableHeaders(p.Header, 2)
	id := p.MsgID
	if id == "" {
		id = strconv.FormatUint(p.Seq, 10)
	}
	h.Set(HeaderMsgID, id+":parked:"+strconv.FormatUint(p.Seq, 10))
	h.Del(HeaderParkedSpent)
	if p.Spent > 0 {
		h.Set(HeaderParkedSpent, strconv.FormatUint(p.Spent, 10))
	}
	h.Del(HeaderParkedSeq)
	if vs := p.VersionSeq; vs > 0 {
		h.Set(HeaderParkedSeq, strconv.FormatUint(vs, 10))
	} else if p.Seq > 0 { // an entry without it (not written by this worker): its own sequence, the older one
		h.Set(HeaderParkedSeq, strconv.FormatUint(p.Seq, 10))
	}
	h.Set(jetstream.ExpectedStreamHeader, c.cfg.Stream)
	return &nats.Msg{Subject: p.Subject, Header: h, Data: p.Data}
}
