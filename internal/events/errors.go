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

// Dependency names a service the flows need and outage mode watches.
type Dependency string

// The dependencies of the flows.
const (
	DepRedis   Dependency = "redis"
	DepMongoDB Dependency = "mongodb"
)

// DependencyError says a handler failed because a dependency could not be
// reached: a connection refused or reset, a network timeout, a reply that
// means "not serving now" (Redis LOADING, READONLY after a failover,
// MongoDB server selection). Handlers wrap such errors with Unavailable; a
// script error or a bad document is never one. The consume loop asks its
// Outages whether Dep is down (Outages.Judge). Err's text is the driver's,
// as before the wrapping; it holds addresses, never credentials.
type DependencyError struct {
	Dep Dependency
	Err error
}

func (e *DependencyError) Error() string { return string(e.Dep) + " unavailable: " + e.Err.Error() }

// Unwrap returns the driver's error.
func (e *DependencyError) Unwrap() error { return e.Err }

// Unavailable wraps err as a *DependencyError of dep (nil stays nil).
func Unavailable(dep Dependency, err error) error {
	if err == nil {
		return nil
	}
	return &DependencyError{Dep: dep, Err: err}
}

// ErrPaused is the error of a call refused at once because its dependency
// is known down (Outages.Check): waiting for the driver's timeout would only
// hold a slot that an event not needing it could use.
var ErrPaused = errors.New("paused until a probe answers")

// OutageError is a handler failure while a dependency the event needs was
// known down (Outages.Judge): the message is handed back after After
// (jittered) without spending its delivery budget, never dead-lettered.
type OutageError struct {
	Dep   Dependency
	After time.Duration
	Err   error
}

func (e *OutageError) Error() string {
	return "held while " + string(e.Dep) + " is down: " + e.Err.Error()
}

// Unwrap returns the handler's error.
func (e *OutageError) Unwrap() error { return e.Err }
