package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// AuditRecord is one change of a user's access to a server, as stored on the
// audit stream and printed by `worker audit` (docs/audit.md). It never holds
// a config value.
type AuditRecord struct {
	// ID identifies the record (also its Nats-Msg-Id, "audit:<id>"): the same
	// change drained twice has the same id.
	ID   string    `json:"id"`
	Time time.Time `json:"time"` // when the change was applied (Redis clock), RFC 3339 nano
	// User is the user whose access changed; "*" with AllUsers for a change
	// of every user's access at once (promote, demote, retier, delete).
	User     string `json:"user"`
	AllUsers bool   `json:"allUsers,omitempty"`
	Server   string `json:"server"`
	Tenant   string `json:"tenant,omitempty"`
	// Kind is grant, revoke, refresh, promote, demote, retier or delete.
	Kind string `json:"kind"`
	// Before and After are none | member | consumeOnly for a user, private |
	// app | user | deleted for every user.
	Before string `json:"before"`
	After  string `json:"after"`
	// The event that caused the change (reconcile: subject "reconcile", no
	// id or version), the server record's revision, and the worker.
	EventID   string `json:"eventId"`
	Subject   string `json:"subject"`
	Version   int64  `json:"version"`
	StreamSeq uint64 `json:"streamSeq,omitempty"`
	Rev       int64  `json:"rev"`
	Worker    string `json:"worker"`
}

// AuditPublisher writes audit records to the audit stream.
type AuditPublisher struct {
	js       jetstream.JetStream
	subjects Subjects
	stream   string
	worker   string
}

// NewAuditPublisher returns a publisher to c's audit stream for the worker
// named worker (its records' worker id).
func NewAuditPublisher(js jetstream.JetStream, c Config, worker string) *AuditPublisher {
	return &AuditPublisher{js: js, subjects: c.Subjects(), stream: c.AuditStream, worker: worker}
}

// Worker is the id this publisher's worker writes in its records.
func (p *AuditPublisher) Worker() string { return p.worker }

// Publish stores records on the audit stream and waits for every
// acknowledgement (all published at once, then awaited). Each carries
// Nats-Msg-Id "audit:<id>", so publishing one again within the stream's
// duplicate window stores nothing.
func (p *AuditPublisher) Publish(ctx context.Context, records []AuditRecord) error {
	futures := make([]jetstream.PubAckFuture, 0, len(records))
	for _, r := range records {
		data, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("audit record %s: %w", r.ID, err)
		}
		m := &nats.Msg{Subject: p.subjects.Audit(r.User, r.AllUsers, qualified(r)), Data: data, Header: nats.Header{}}
		m.Header.Set(HeaderMsgID, "audit:"+r.ID)
		f, err := p.js.PublishMsgAsync(m, jetstream.WithExpectStream(p.stream))
		if err != nil {
			return fmt.Errorf("publish audit record: %w", err)
		}
		futures = append(futures, f)
	}
	var errs []error
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			errs = append(errs, err)
		case <-ctx.Done():
			return fmt.Errorf("publish audit records: %w", ctx.Err())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("publish audit records: %d of %d failed: %w", len(errs), len(records), err)
	}
	return nil
}

// qualified is the registry's name of the record's server (layout.Qualify,
// which this package cannot import: the same rule).
func qualified(r AuditRecord) string {
	if r.Tenant == "" {
		return r.Server
	}
	return r.Tenant + "\x1f" + r.Server
}

// AuditQuery selects audit records: one user's (AllUsers: the records for
// every user) and/or one server's (Server qualified by Tenant), since Since
// (zero: all the stream keeps).
type AuditQuery struct {
	User     string
	AllUsers bool
	Server   string
	Tenant   string
	Since    time.Time
}

// auditFetchWait bounds one fetch; the read ends when the consumer has
// nothing pending.
const auditFetchWait = 2 * time.Second

// ReadAudit calls fn with each record q selects, oldest first, each id once
// (a record stored twice, drained again after the duplicate window, is
// shown once). It reads with an ordered consumer filtered on the query's
// subject and ends when nothing is pending: nothing to read, fn never called.
func ReadAudit(ctx context.Context, js jetstream.JetStream, c Config, q AuditQuery, fn func(AuditRecord) error) error {
	server := q.Server
	if server != "" {
		server = qualified(AuditRecord{Server: q.Server, Tenant: q.Tenant})
	}
	filter := c.Subjects().AuditFilter(q.User, q.AllUsers, server)
	st, err := js.Stream(ctx, c.AuditStream)
	if err != nil {
		return fmt.Errorf("audit stream %s: %w", c.AuditStream, err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return fmt.Errorf("audit stream %s: %w", c.AuditStream, err)
	}
	if len(info.State.Subjects) == 0 {
		return nil
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}, DeliverPolicy: jetstream.DeliverAllPolicy}
	if !q.Since.IsZero() {
		since := q.Since
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	cons, err := st.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("audit stream %s: %w", c.AuditStream, err)
	}
	seen := map[string]bool{}
	for {
		batch, err := cons.Fetch(100, jetstream.FetchMaxWait(auditFetchWait))
		if err != nil {
			return fmt.Errorf("read audit stream %s: %w", c.AuditStream, err)
		}
		n, last := 0, false
		for m := range batch.Messages() {
			n++
			var r AuditRecord
			if err := json.Unmarshal(m.Data(), &r); err != nil {
				return fmt.Errorf("audit record on %s: %w", m.Subject(), err)
			}
			if !seen[r.ID] {
				seen[r.ID] = true
				if err := fn(r); err != nil {
					return err
				}
			}
			if md, err := m.Metadata(); err == nil && md.NumPending == 0 {
				last = true
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("read audit stream %s: %w", c.AuditStream, err)
		}
		if last || n == 0 {
			return nil
		}
	}
}
