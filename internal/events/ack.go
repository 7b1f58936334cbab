package events

import (
	"errors"
	"fmt"
	"time"
)

// Action is what the consume loop does with a message once it is handled.
type Action int

// The acknowledgements a Decision can ask for.
const (
	// ActionAck acknowledges the message: it is finished.
	ActionAck Action = iota
	// ActionNak hands the message back for redelivery after Decision.Delay.
	ActionNak
	// ActionDeadLetter copies the message to the dead-letter stream with
	// Decision.Reason, then terminates it.
	ActionDeadLetter
)

// String returns the action's name as used in logs: "ack", "nak" or
// "dead_letter".
func (a Action) String() string {
	switch a {
	case ActionAck:
		return "ack"
	case ActionNak:
		return "nak"
	case ActionDeadLetter:
		return "dead_letter"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Outcomes reported in logs, metrics and Mcp-Notify results.
const (
	OutcomeDone         = "done"
	OutcomeSkipped      = "skipped"
	OutcomeRetry        = "retry"
	OutcomeDeadLettered = "dead_lettered"
	// OutcomeDropped is a message that should have been dead-lettered but
	// whose dead letter could not be written in deadLetterTries attempts:
	// it is terminated, counted and logged as an error.
	OutcomeDropped = "dropped"
)

// Decision is the acknowledgement of one handled message.
type Decision struct {
	Action  Action
	Delay   time.Duration // for ActionNak
	Outcome string
	// Reason is the dead-letter reason for ActionDeadLetter, and the
	// handler's error text for every other non-nil error (retry, skip).
	Reason string
}

// RetryPolicy says how long and how often failed messages are retried. The
// consumer's own MaxDeliver must be at least max(MaxDeliver, BusyMaxDeliver)
// so that the server redelivers until the worker dead-letters the message.
type RetryPolicy struct {
	MaxDeliver     int           // transient failures: dead-letter on the delivery numbered MaxDeliver
	BaseDelay      time.Duration // first retry delay; doubles per delivery
	MaxDelay       time.Duration // cap
	BusyMaxDeliver int           // BusyError retries: dead-letter only at this many deliveries

	// rand draws the jitter of every delay, in [0, 1); nil is math/rand/v2.
	// Tests fix it (export_test.go).
	rand func() float64
}

// DefaultRetryPolicy returns the policy used when nothing is configured: 10
// deliveries, 500ms doubling up to 1m, and 200 deliveries while busy.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxDeliver:     10,
		BaseDelay:      500 * time.Millisecond,
		MaxDelay:       time.Minute,
		BusyMaxDeliver: 200,
	}
}

// Validate reports the first setting that cannot work.
func (p RetryPolicy) Validate() error {
	switch {
	case p.MaxDeliver < 1:
		return fmt.Errorf("retry policy: max deliver must be at least 1, got %d", p.MaxDeliver)
	case p.BaseDelay <= 0:
		return fmt.Errorf("retry policy: base delay must be positive, got %s", p.BaseDelay)
	case p.MaxDelay < p.BaseDelay:
		return fmt.Errorf("retry policy: max delay %s is less than base delay %s", p.MaxDelay, p.BaseDelay)
	case p.BusyMaxDeliver < 1:
		return fmt.Errorf("retry policy: busy max deliver must be at least 1, got %d", p.BusyMaxDeliver)
	}
	return nil
}

// Decide maps a handler's result to an acknowledgement; it is the only
// place that does. delivered is the message's delivery count, starting at 1
// (0 counts as 1).
//
//   - nil: Ack, done.
//   - errors.Is(err, ErrSkip): Ack, skipped.
//   - errors.Is(err, ErrPermanent): DeadLetter at once, reason err.Error().
//   - errors.As(err, **BusyError): Nak after the error's After (BaseDelay when
//     not positive, at most MaxDelay), until delivered reaches
//     BusyMaxDeliver: then DeadLetter "still busy after N deliveries: ...".
//   - anything else is transient: Nak after min(MaxDelay,
//     BaseDelay*2^(delivered-1)), until delivered reaches MaxDeliver: then
//     DeadLetter "gave up after N deliveries: ...".
//
// Every delay is jittered: drawn from [3/4 d, d] where d is the delay named
// above, so messages that failed together (an outage) do not all come back
// at one instant. OutageError (a dependency known down) is the exception to
// the budgets: see DecideAfterBusy.
func (p RetryPolicy) Decide(err error, delivered uint64) Decision {
	return p.DecideAfterBusy(err, delivered, 0)
}

// DecideAfterBusy is Decide for a message of which busy deliveries were
// handed back as busy (BusyError): those count against BusyMaxDeliver but not
// against the transient-failure budget (MaxDeliver and the backoff), so a
// login that waited behind another worker's load still gets its full retries.
// The consume loop also counts here the deliveries it held during an outage.
//
// An error wrapping *OutageError (the handler failed while a dependency it
// needs was known down, see Outages.Judge) is handed back after the error's
// After, jittered, whatever the delivery count: it never spends the budget
// and is never dead-lettered.
func (p RetryPolicy) DecideAfterBusy(err error, delivered, busy uint64) Decision {
	delivered = max(delivered, 1)
	if err == nil {
		return Decision{Action: ActionAck, Outcome: OutcomeDone}
	}
	if errors.Is(err, ErrSkip) {
		return Decision{Action: ActionAck, Outcome: OutcomeSkipped, Reason: err.Error()}
	}
	if errors.Is(err, errParked) {
		return Decision{Action: ActionAck, Outcome: OutcomeParked}
	}
	if errors.Is(err, ErrPermanent) {
		return deadLetter(err.Error())
	}
	if errors.Is(err, ErrShutdown) {
		return retry(0, err) // handed back at once, whatever the delivery count
	}
	if held, ok := errors.AsType[*OutageError](err); ok {
		return retry(p.jitter(max(held.After, 0)), err)
	}
	if busy, ok := errors.AsType[*BusyError](err); ok {
		if delivered >= uint64(max(p.BusyMaxDeliver, 0)) {
			return deadLetter(fmt.Sprintf("still busy after %d deliveries: %s", delivered, err))
		}
		delay := busy.After
		if delay <= 0 {
			delay = p.BaseDelay
		}
		return retry(p.jitter(min(delay, p.MaxDelay)), err)
	}
	attempts := delivered - min(busy, delivered-1)
	if attempts >= uint64(max(p.MaxDeliver, 0)) {
		return deadLetter(fmt.Sprintf("gave up after %d deliveries: %s", delivered, err))
	}
	return retry(p.jitter(p.backoff(attempts)), err)
}

// jitter spreads d with the policy's random source.
func (p RetryPolicy) jitter(d time.Duration) time.Duration { return jitter(d, p.rand) }

// backoff returns min(MaxDelay, BaseDelay*2^(delivered-1)) without overflow.
func (p RetryPolicy) backoff(delivered uint64) time.Duration {
	d := p.BaseDelay
	if d <= 0 {
		return 0 // invalid policy; Validate refuses it
	}
	for n := uint64(1); n < delivered && d < p.MaxDelay; n++ {
		if d > p.MaxDelay/2 {
			return p.MaxDelay
		}
		d *= 2
	}
	return min(d, p.MaxDelay)
}

func retry(delay time.Duration, err error) Decision {
	return Decision{Action: ActionNak, Delay: delay, Outcome: OutcomeRetry, Reason: err.Error()}
}

func deadLetter(reason string) Decision {
	return Decision{Action: ActionDeadLetter, Outcome: OutcomeDeadLettered, Reason: reason}
}
