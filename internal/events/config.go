package events

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// duplicateWindow is how long JetStream remembers a Nats-Msg-Id to drop a
// duplicate publish (both streams).
const duplicateWindow = 2 * time.Minute

// auditDuplicateWindow is the audit stream's Nats-Msg-Id window: a record
// drained again after a failure within it is stored once (docs/audit.md).
const auditDuplicateWindow = 15 * time.Minute

// DefaultAuditMaxAge is how long the audit stream keeps records by default:
// 90 days.
const DefaultAuditMaxAge = 90 * 24 * time.Hour

// MaxStreamReplicas is JetStream's largest replica count.
const MaxStreamReplicas = 5

// Config is the JetStream side of the worker: names, consumer settings and the
// retry policy. cmd/worker fills it from flags; the defaults are in DefaultConfig.
type Config struct {
	Stream    string // main stream (--stream)
	DLQStream string // dead-letter stream
	// AuditStream is the stream of the audit records (--audit-stream).
	AuditStream string
	Prefix      string // subject prefix (--subject-prefix)
	Consumer    string // durable consumer shared by all replicas

	// NotifyPrefix is a subject prefix (besides _INBOX) that Mcp-Notify may
	// name (--notify-prefix); empty allows inboxes only. It must not be a $
	// subject nor overlap Prefix.
	NotifyPrefix string

	// Provision creates or updates the streams and the consumer at start;
	// false only checks that they exist (locked-down accounts).
	Provision bool
	// Concurrency is how many handlers run at once in one replica; it is
	// also the size of the replica's pull buffer (pullBuffer), so a replica
	// holds at most twice that: running and fetched.
	Concurrency int
	// HandlerTimeout is the deadline of one message's handler.
	HandlerTimeout time.Duration
	// AckWait is the consumer's AckWait; while a handler runs, InProgress is
	// sent every AckWait/3.
	AckWait time.Duration
	// MaxAckPending counts unacknowledged messages across all replicas
	// (buffered ones too): keep it at least replicas x 2 x Concurrency, or
	// new replicas sit idle.
	MaxAckPending int
	// StreamMaxAge is the main stream's retention (limits policy); 0 keeps
	// messages forever.
	StreamMaxAge time.Duration
	// StreamReplicas is how many copies a JetStream cluster keeps of the
	// main and dead-letter streams (1 on a single server, 3 in production);
	// see Provision for an existing stream with another count.
	StreamReplicas int
	// MaxPayload is the largest event accepted; a larger one is dead-lettered.
	MaxPayload int
	// MaxAllowedUsers and MaxConfigBytes are the Limits of one event; an
	// event over them is dead-lettered.
	MaxAllowedUsers int
	MaxConfigBytes  int
	// DLQMaxAge and DLQMaxBytes bound the dead-letter stream (oldest dead
	// letters are discarded first).
	DLQMaxAge   time.Duration
	DLQMaxBytes int64
	// AuditMaxAge is how long the audit stream keeps a record (--audit-max-age).
	AuditMaxAge time.Duration
	// Retry maps handler errors to acknowledgements.
	Retry RetryPolicy
	// LogSummaryEvery is how often the info line counting handled messages
	// by kind and outcome is written (each message is logged at debug).
	LogSummaryEvery time.Duration
	// Outage says when a dependency counts as down and how it is probed.
	Outage OutageConfig
}

// DefaultConfig returns the defaults of every setting.
func DefaultConfig() Config {
	return Config{
		Stream:          DefaultStream,
		DLQStream:       DefaultDLQStream,
		AuditStream:     DefaultAuditStream,
		Prefix:          DefaultPrefix,
		Consumer:        DefaultConsumer,
		Provision:       true,
		Concurrency:     16,
		HandlerTimeout:  30 * time.Second,
		AckWait:         30 * time.Second,
		MaxAckPending:   1000,
		StreamMaxAge:    7 * 24 * time.Hour,
		StreamReplicas:  1,
		MaxPayload:      DefaultMaxPayload,
		MaxAllowedUsers: 100000,
		MaxConfigBytes:  64 << 10,
		DLQMaxAge:       14 * 24 * time.Hour,
		DLQMaxBytes:     1 << 30,
		AuditMaxAge:     DefaultAuditMaxAge,
		Retry:           DefaultRetryPolicy(),
		LogSummaryEvery: 10 * time.Second,
		Outage:          DefaultOutageConfig(),
	}
}

// Limits returns the per-event limits.
func (c Config) Limits() Limits {
	return Limits{MaxAllowedUsers: c.MaxAllowedUsers, MaxConfigBytes: c.MaxConfigBytes}
}

// Subjects returns the subject builder for the configured prefix.
func (c Config) Subjects() Subjects { return Subjects{Prefix: c.Prefix} }

// Validate reports every invalid setting at once.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, n := range []struct{ what, name string }{
		{"stream", c.Stream},
		{"dead-letter stream", c.DLQStream},
		{"audit stream", c.AuditStream},
		{"consumer", c.Consumer},
	} {
		if !validName(n.name) {
			add("%s name %q: must be non-empty without spaces, '.', '*', '>', '/' or '\\'", n.what, n.name)
		}
	}
	if c.Stream == c.DLQStream {
		add("stream and dead-letter stream are both %q", c.Stream)
	}
	if c.AuditStream == c.Stream || c.AuditStream == c.DLQStream {
		add("audit stream %q: must differ from the stream and the dead-letter stream", c.AuditStream)
	}
	if !validPrefix(c.Prefix) {
		add("subject prefix %q: must be non-empty dot-separated tokens without spaces or wildcards", c.Prefix)
	}
	if err := CheckNotifyPrefix(c.NotifyPrefix, c.Prefix); err != nil {
		errs = append(errs, err)
	}
	if c.Concurrency < 1 {
		add("concurrency %d: must be at least 1", c.Concurrency)
	}
	if c.HandlerTimeout <= 0 {
		add("handler timeout %s: must be positive", c.HandlerTimeout)
	}
	if c.AckWait < 300*time.Millisecond {
		add("ack wait %s: must be at least 300ms", c.AckWait)
	}
	if c.MaxAckPending < c.Concurrency {
		add("max ack pending %d: must be at least the concurrency (%d)", c.MaxAckPending, c.Concurrency)
	}
	if c.StreamMaxAge < 0 || (c.StreamMaxAge > 0 && c.StreamMaxAge < duplicateWindow) {
		add("stream max age %s: must be 0 (forever) or at least %s", c.StreamMaxAge, duplicateWindow)
	}
	if c.StreamReplicas < 1 || c.StreamReplicas > MaxStreamReplicas {
		add("stream replicas %d: must be 1 to %d", c.StreamReplicas, MaxStreamReplicas)
	}
	if c.MaxPayload < 1 {
		add("max payload %d: must be positive", c.MaxPayload)
	}
	if c.MaxAllowedUsers < 1 {
		add("max allowed users %d: must be positive", c.MaxAllowedUsers)
	}
	if c.MaxConfigBytes < 2 {
		add("max config bytes %d: must be at least 2 (\"{}\")", c.MaxConfigBytes)
	}
	if c.DLQMaxAge < duplicateWindow {
		add("dead-letter max age %s: must be at least %s", c.DLQMaxAge, duplicateWindow)
	}
	if c.DLQMaxBytes < int64(c.MaxPayload) {
		add("dead-letter max bytes %d: must be at least the max payload (%d)", c.DLQMaxBytes, c.MaxPayload)
	}
	if c.AuditMaxAge < auditDuplicateWindow {
		add("audit max age %s: must be at least %s", c.AuditMaxAge, auditDuplicateWindow)
	}
	if err := c.Retry.Validate(); err != nil {
		add("retry: %w", err)
	}
	if c.LogSummaryEvery < time.Second {
		add("log summary every %s: must be at least 1s", c.LogSummaryEvery)
	}
	if err := c.Outage.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("events config: %w", err)
	}
	return nil
}

// validName checks a stream or consumer name as JetStream requires.
func validName(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\r\n.*>/\\")
}

// validPrefix checks that p is a literal subject of one or more tokens.
func validPrefix(p string) bool {
	if p == "" {
		return false
	}
	for tok := range strings.SplitSeq(p, ".") {
		if tok == "" || strings.ContainsAny(tok, " \t\r\n*>") {
			return false
		}
	}
	return true
}

// validSubject checks that s is a literal subject (no wildcard) one can
// publish to, e.g. an Mcp-Notify header value.
func validSubject(s string) bool { return validPrefix(s) }

// CheckNotifyPrefix refuses a notify prefix that is not a literal subject,
// is a $ subject, or overlaps the worker's subject prefix.
func CheckNotifyPrefix(notify, prefix string) error {
	switch {
	case notify == "":
		return nil
	case !validPrefix(notify):
		return fmt.Errorf("notify prefix %q: must be dot-separated tokens without spaces or wildcards", notify)
	case strings.HasPrefix(notify, "$"):
		return fmt.Errorf("notify prefix %q: must not be a $ subject", notify)
	case notify == prefix || under(notify, prefix) || under(prefix, notify):
		return fmt.Errorf("notify prefix %q: overlaps the subject prefix %q", notify, prefix)
	}
	return nil
}
