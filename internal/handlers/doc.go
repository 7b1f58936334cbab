// Package handlers holds the flows of the worker, one small type per event
// kind, each with Handle(ctx, event) error: the login load, invalidate, and the
// server flows (created, updated, access, shared, unshared, deleted).
//
// A flow decides what the registry must become and asks the registry package
// to write it atomically, under the locks of the lockstatus package. It never
// acks, never logs its own error and never touches redsync or NATS: the events
// package maps the returned error to an acknowledgement (events.Permanent for
// input that can never succeed, events.Busy for "being done elsewhere",
// events.Skipf for "nothing to do", anything else is retried).
package handlers
