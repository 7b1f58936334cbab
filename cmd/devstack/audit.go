package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mcp-registry/worker/internal/events"
)

// auditTimeout bounds the read of the demo's audit trail.
const auditTimeout = 10 * time.Second

// readAudit reads the audit records of user from the stack's audit stream
// (the worker's defaults), as `worker audit --user` does.
func readAudit(ctx context.Context, natsURL, user string) ([]events.AuditRecord, error) {
	ctx, cancel := context.WithTimeout(ctx, auditTimeout)
	defer cancel()
	nc, err := nats.Connect(natsURL, nats.Name("devstack"))
	if err != nil {
		return nil, fmt.Errorf("connect nats %s: %w", natsURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	var out []events.AuditRecord
	err = events.ReadAudit(ctx, js, events.DefaultConfig(), events.AuditQuery{User: user}, func(r events.AuditRecord) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// printAudit shows the audit trail of one demo user: who changed the user's
// access, when, through which event.
func printAudit(w io.Writer, name, user string, records []events.AuditRecord) {
	fmt.Fprintf(w, "devstack: audit trail of %s (worker audit --user %s): %s\n", name, user, count(len(records), "record"))
	for _, r := range records {
		b, err := json.Marshal(r)
		if err != nil {
			continue
		}
		fmt.Fprintf(w, "  %s\n", b)
	}
}
