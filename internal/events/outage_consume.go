package events

import (
	"errors"

	"github.com/nats-io/nats.go/jetstream"
)

// The consume loop's side of outage mode (Outages), kept here so that
// pull.go and inflight.go call it at a few marked points only:
//   - pull waits for pulling to resume before it opens an iterator, and
//     keeps the consumer when an iterator ended for an outage;
//   - consume hands back, at once, a message taken while pulling is paused;
//   - process passes the handler's result through Outages.Judge and counts
//     held deliveries with countFree.

// countFree records, per stream sequence, the deliveries that must not
// spend the transient-failure budget: busy (BusyError) and held for an
// outage (OutageError). Both are forgotten once the message is finished.
func (c *Consumer) countFree(seq uint64, herr error, d Decision) {
	if d.Action != ActionNak {
		c.busy.forget(seq)
		c.held.forget(seq)
		return
	}
	if _, busy := errors.AsType[*BusyError](herr); busy {
		c.busy.add(seq)
	}
	if held, ok := errors.AsType[*OutageError](herr); ok {
		c.held.add(seq)
		c.metrics.heldBack(held.Dep)
	}
}

// budgetDeliveries is delivered without the deliveries of seq held here for
// an outage: those spend no budget at all, neither the transient one
// (MaxDeliver) nor the busy one (BusyMaxDeliver). At least 1.
func (c *Consumer) budgetDeliveries(seq, delivered uint64) uint64 {
	delivered = max(delivered, 1)
	return delivered - min(c.held.get(seq), delivered-1)
}

// handBack returns a message taken while pulling is paused: Nak at once
// (a replica that can reach the dependency may take it), counted as held.
func (c *Consumer) handBack(msg jetstream.Msg) {
	dep, _ := c.outages.pullingPausedBy()
	if meta, err := msg.Metadata(); err == nil {
		c.held.add(meta.Sequence.Stream)
	}
	c.metrics.heldBack(dep)
	c.nak(msg)
}

// drainForOutage ends the current iterator when pulling pauses: consume
// gets its buffered messages (handed back), then the iterator's end, and
// pull waits for the dependency before opening a new one.
func (c *Consumer) drainForOutage() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.iter != nil && !c.stopping {
		c.log.Info("Pulling paused, handing back the messages not started")
		c.iter.Drain()
	}
}

// pausedForOutage reports whether pulling is paused by an outage, for the
// pull loop's decisions.
func (c *Consumer) pausedForOutage() bool {
	_, paused := c.outages.pullingPausedBy()
	return paused
}
