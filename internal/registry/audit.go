package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// AuditOutboxTTL bounds how long an audit entry waits in its outbox when no
// worker drains it (every drain happens before the event is acknowledged; an
// entry stays only when every retry of its event failed).
const AuditOutboxTTL = 7 * 24 * time.Hour

// auditDrainChunk is how many entries of one outbox one read takes.
const auditDrainChunk = 1000

// auditPublishTimeout bounds one publish of a drain: an audit stream that
// never answers (no leader) must not take the handler's deadline, which the
// fan-out after the drain needs (review 10). A chunk's acks take
// milliseconds when the stream serves.
const auditPublishTimeout = 3 * time.Second

// AllUsers is the user of an audit entry that concerns every user of a server
// at once (a promote, demote, move between tiers, or delete).
const AllUsers = "*"

// AuditCause is what caused a change: the event (its id, subject, version and
// stream sequence) and the worker that applied it. Never a config value.
type AuditCause struct {
	EventID   string `json:"eventId"`
	Subject   string `json:"subject"`
	Version   int64  `json:"version"`
	StreamSeq uint64 `json:"streamSeq,omitempty"`
	Worker    string `json:"worker"`
}

// AuditEntry is one audit record as a Lua script appended it to an outbox in
// the same step as the change it records (docs/audit.md).
type AuditEntry struct {
	// Raw is the entry's stored bytes: its identity (equal bytes, same entry).
	Raw string
	// TimeMicros is Redis's clock when the change was applied (Unix µs).
	TimeMicros int64
	// User is the user whose access changed, or AllUsers.
	User string
	// Server is the qualified server name (layout.Qualify).
	Server string
	// Kind is grant, revoke, refresh, promote, demote, retier or delete.
	Kind string
	// Before and After: none, member, consumeOnly (a user's entry); private,
	// app, user, deleted (an AllUsers entry).
	Before, After string
	// Rev is the server record's revision of the change.
	Rev   int64
	Cause AuditCause
}

// auditWire is an entry as the scripts write it (short keys: outboxes are
// small but a fan-out writes one per user).
type auditWire struct {
	T      string     `json:"t"`
	User   string     `json:"u"`
	Server string     `json:"s"`
	Kind   string     `json:"k"`
	Before string     `json:"b"`
	After  string     `json:"a"`
	Rev    int64      `json:"r"`
	Cause  AuditCause `json:"c"`
}

// AuditSink publishes drained entries durably (the audit stream); an error
// keeps them in their outbox for the next drain.
type AuditSink func(ctx context.Context, entries []AuditEntry) error

type auditKey struct{}

// auditScope is what WithAudit puts in a context.
type auditScope struct {
	cause string // the AuditCause as JSON, spliced into entries by the scripts
	sink  AuditSink

	mu     sync.Mutex
	failed error // the first fan-out drain that failed (AuditFailed)
}

// AuditFailed returns the error of the first drain ApplyToUsers put off
// under ctx's WithAudit, nil if none failed. A fan-out does not stop at a
// failed drain: a revoke must not wait for the audit stream (review 10).
// Its records wait in the users' outboxes; the flow fails once the users
// are done (its fan-out left unfinished), and the redelivery, walking the
// same users again, drains them.
func AuditFailed(ctx context.Context) error {
	s, ok := ctx.Value(auditKey{}).(*auditScope)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// putOffAudit records err as ctx's failed drain (the first one is kept).
func putOffAudit(ctx context.Context, err error) {
	s, ok := ctx.Value(auditKey{}).(*auditScope)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == nil {
		s.failed = err
	}
}

// WithAudit returns a context under which the registry's writes record the
// access changes they make (apply_user, commit_load on a refresh, put_tier,
// apply_record on a delete) in audit outboxes, in the same script as the
// change, and drain every outbox they find non-empty to sink before they
// return: a write that returns nil has its records published. Without it
// nothing is recorded.
func WithAudit(ctx context.Context, cause AuditCause, sink AuditSink) context.Context {
	b, _ := json.Marshal(cause) // strings and integers: cannot fail
	return context.WithValue(ctx, auditKey{}, &auditScope{cause: string(b), sink: sink})
}

// auditArgs returns the scripts' audit ARGV (cause or ”, outbox TTL ms).
func auditArgs(ctx context.Context) (cause string, ttlMs int64) {
	if s, ok := ctx.Value(auditKey{}).(*auditScope); ok {
		return s.cause, AuditOutboxTTL.Milliseconds()
	}
	return "", AuditOutboxTTL.Milliseconds()
}

// drainAudit publishes the entries of the outboxes (each reported non-empty by
// a script) to the context's sink, then removes exactly those entries (LREM
// by value, so a concurrent drainer of the same outbox loses nothing: both
// publish the same entries under the same message ids, JetStream drops the
// second). Without an audit scope it does nothing.
func (r *Registry) drainAudit(ctx context.Context, outboxes []string) error {
	s, ok := ctx.Value(auditKey{}).(*auditScope)
	if !ok || len(outboxes) == 0 {
		return nil
	}
	for len(outboxes) > 0 {
		reads := make([]*redis.StringSliceCmd, len(outboxes))
		_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range outboxes {
				reads[i] = p.LRange(ctx, k, 0, auditDrainChunk-1)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read audit outboxes: %w", err)
		}
		var entries []AuditEntry
		var more []string
		for i, c := range reads {
			raws := c.Val()
			for _, raw := range raws {
				e, err := ParseAuditEntry(raw)
				if err != nil {
					return fmt.Errorf("audit outbox %s: %w", outboxes[i], err)
				}
				entries = append(entries, e)
			}
			if len(raws) == auditDrainChunk {
				more = append(more, outboxes[i])
			}
		}
		if len(entries) == 0 {
			return nil
		}
		pctx, cancel := context.WithTimeout(ctx, auditPublishTimeout)
		err = s.sink(pctx, entries)
		cancel()
		if err != nil {
			return fmt.Errorf("publish audit records: %w", err)
		}
		_, err = r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, c := range reads {
				for _, raw := range c.Val() {
					p.LRem(ctx, outboxes[i], 1, raw)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("trim audit outboxes: %w", err)
		}
		outboxes = more
	}
	return nil
}

// ParseAuditEntry decodes one outbox entry.
func ParseAuditEntry(raw string) (AuditEntry, error) {
	var w auditWire
	if err := json.Unmarshal([]byte(raw), &w); err != nil {
		return AuditEntry{}, fmt.Errorf("decode audit entry: %w", err)
	}
	us, err := strconv.ParseInt(w.T, 10, 64)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("decode audit entry time %q: %w", w.T, err)
	}
	return AuditEntry{
		Raw: raw, TimeMicros: us, User: w.User, Server: w.Server, Kind: w.Kind,
		Before: w.Before, After: w.After, Rev: w.Rev, Cause: w.Cause,
	}, nil
}

// AllUsers reports whether the entry concerns every user of the server (a
// promote, demote, retier or delete) rather than one user (grant, revoke,
// refresh). The kind decides: a user may be named "*".
func (e AuditEntry) AllUsers() bool {
	switch e.Kind {
	case "promote", "demote", "retier", "delete":
		return true
	}
	return false
}

// Time is when the change was applied (Redis's clock), in UTC.
func (e AuditEntry) Time() time.Time { return time.UnixMicro(e.TimeMicros).UTC() }
