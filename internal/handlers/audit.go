package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/reader/layout"
)

// Auditor stores audit records durably (events.AuditPublisher: the audit
// stream). Without one the flows record nothing.
type Auditor interface {
	// Worker is the worker id written in every record.
	Worker() string
	// Publish stores the records (idempotent per record id) or fails.
	Publish(ctx context.Context, records []events.AuditRecord) error
}

// audited runs a flow with the audit on (withAudit).
type audited struct {
	flow    events.Handler
	auditor Auditor
}

var _ events.Handler = audited{}

// Handle runs the flow under withAudit.
func (h audited) Handle(ctx context.Context, ev events.Event) error {
	actx := withAudit(ctx, h.auditor, ev)
	err := h.flow.Handle(actx, ev)
	if err == nil || errors.Is(err, events.ErrSkip) {
		// A drain put off while the flow went on (registry.AuditFailed):
		// retried, and the redelivery, touching the same users, drains
		// their outboxes.
		if aerr := registry.AuditFailed(actx); aerr != nil {
			return aerr
		}
	}
	return err
}

// withAudit returns ctx under which the registry's writes record the access
// changes they make, caused by ev, and publish them through a before they
// return (registry.WithAudit): a flow that returns nil has its records on the
// audit stream; one that fails leaves them in their outbox for its retry.
func withAudit(ctx context.Context, a Auditor, ev events.Event) context.Context {
	if a == nil {
		return ctx
	}
	cause := registry.AuditCause{
		EventID: ev.EventID, Subject: ev.Subject, Version: ev.Version, StreamSeq: ev.StreamSeq, Worker: a.Worker(),
	}
	return registry.WithAudit(ctx, cause, func(ctx context.Context, entries []registry.AuditEntry) error {
		return a.Publish(ctx, auditRecords(entries))
	})
}

// auditRecords turns outbox entries into audit records. A record's id is a
// hash of the entry's bytes, so the same entry drained twice (a crash between
// publish and trim, two drainers at once) is the same message to JetStream.
func auditRecords(entries []registry.AuditEntry) []events.AuditRecord {
	out := make([]events.AuditRecord, len(entries))
	for i, e := range entries {
		sum := sha256.Sum256([]byte(e.Raw))
		tenant, name := layout.Unqualify(e.Server)
		out[i] = events.AuditRecord{
			ID: hex.EncodeToString(sum[:16]), Time: e.Time(),
			User: e.User, AllUsers: e.AllUsers(), Server: name, Tenant: tenant,
			Kind: e.Kind, Before: e.Before, After: e.After,
			EventID: e.Cause.EventID, Subject: e.Cause.Subject, Version: e.Cause.Version, StreamSeq: e.Cause.StreamSeq,
			Rev: e.Rev, Worker: e.Cause.Worker,
		}
	}
	return out
}
