package events

import (
	"errors"
	"fmt"
	"time"
)

// ErrPermanent marks an error that can never succeed on retry (bad input, an
// unknown subject). A message whose handling returns an error wrapping it is
// dead-lettered at once and terminated.
var ErrPermanent = errors.New("permanent")

// Permanent wraps err so that errors.Is(result, ErrPermanent) holds.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrPermanent, err)
}

// Permanentf formats an error that wraps ErrPermanent.
func Permanentf(format string, args ...any) error {
	return Permanent(fmt.Errorf(format, args...))
}

// BusyError says the work is being done elsewhere right now (for example a
// concurrent login load of the same user holds the lock). The message is
// handed back with the short delay After, without counting as a failure.
type BusyError struct {
	After  time.Duration
	Reason string
}

func (e *BusyError) Error() string { return "busy: " + e.Reason }

// Busy returns a *BusyError asking for a retry after d.
func Busy(d time.Duration, reason string) error { return &BusyError{After: d, Reason: reason} }

// ErrSkip marks an event that was handled by deciding to do nothing (for
// example a stale version). It is acknowledged with the outcome "skipped".
var ErrSkip = errors.New("skipped")

// Skipf formats an error that wraps ErrSkip.
func Skipf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSkip, fmt.Sprintf(format, args...))
}

// ErrShutdown marks a handler error that happened because the worker is
// shutting down (its context was cancelled by Stop). The message is handed
// back at once and never dead-lettered for it, even on its last delivery.
var ErrShutdown = errors.New("worker shutting down")

// ErrReplayRefused marks a dead letter that replay refused to publish
// because its target subject is not one of the worker's event subjects.
var ErrReplayRefused = errors.New("replay refused")
