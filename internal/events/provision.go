package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Provision makes sure the main stream, the dead-letter stream, the audit
// stream and the durable consumer exist. With c.Provision it creates or updates them (calling
// it again is a no-op); without, it only looks them up and returns an error
// naming everything missing. It uses nothing newer than nats-server 2.9: one
// consumer without subject filter, no subject transforms.
func Provision(ctx context.Context, js jetstream.JetStream, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if !c.Provision {
		return checkProvisioned(ctx, js, c)
	}
	for _, sc := range []jetstream.StreamConfig{mainStreamConfig(c), dlqStreamConfig(c), auditStreamConfig(c)} {
		if err := provisionStream(ctx, js, sc); err != nil {
			return err
		}
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, c.Stream, consumerConfig(c)); err != nil {
		return fmt.Errorf("provision consumer %s on %s: %w", c.Consumer, c.Stream, err)
	}
	return nil
}

// provisionStream creates the stream or updates it to sc. An existing
// stream keeps its placement (the cluster operator's choice). Its replica
// count is raised to sc's (more copies lose nothing) but never lowered: a
// stream with more replicas than --stream-replicas is refused, since scaling
// it down drops copies of the events and is the operator's call, not a side
// effect of a worker starting with the default. An existing stream with a
// subject that is not one of sc's belongs to someone else (another
// deployment on the account, another --subject-prefix): it is refused, never
// rewritten.
func provisionStream(ctx context.Context, js jetstream.JetStream, sc jetstream.StreamConfig) error {
	st, err := js.Stream(ctx, sc.Name)
	switch {
	case err == nil:
		cur := st.CachedInfo().Config
		if foreign := notOurs(cur.Subjects, sc.Subjects); len(foreign) > 0 {
			return fmt.Errorf("provision stream %s: it exists with subjects %s that are not ours (%s): "+
				"another deployment's stream? give this one its own --stream/--dlq-stream",
				sc.Name, strings.Join(foreign, ", "), strings.Join(sc.Subjects, ", "))
		}
		if err := checkReplicas(sc.Name, cur.Replicas, sc.Replicas, true); err != nil {
			return err
		}
		sc.Placement = cur.Placement
	case !errors.Is(err, jetstream.ErrStreamNotFound):
		return fmt.Errorf("provision stream %s: %w", sc.Name, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
		return fmt.Errorf("provision stream %s: %w", sc.Name, err)
	}
	return nil
}

// checkReplicas refuses an existing stream with more replicas than wanted
// (never scaled down) and, when provisioning is off (scaleUp false), one
// with fewer (the worker may not raise it).
func checkReplicas(stream string, have, want int, scaleUp bool) error {
	have = max(have, 1) // 0 means 1
	switch {
	case have > want:
		return fmt.Errorf("stream %s has %d replicas, --stream-replicas is %d: the worker never scales a stream down "+
			"(set --stream-replicas=%d to keep them, or lower the stream's replicas yourself)", stream, have, want, have)
	case have < want && !scaleUp:
		return fmt.Errorf("stream %s has %d replicas, --stream-replicas is %d, and provisioning is off: "+
			"raise the stream's replicas yourself or lower --stream-replicas", stream, have, want)
	}
	return nil
}

// notOurs returns the subjects of have that are not in ours.
func notOurs(have, ours []string) []string {
	var foreign []string
	for _, s := range have {
		if !slices.Contains(ours, s) {
			foreign = append(foreign, s)
		}
	}
	return foreign
}

// limitsStream is the shape every stream of the worker shares: limits
// retention on file storage, the oldest messages discarded first, created
// with --stream-replicas copies.
func limitsStream(c Config, name string, subjects []string, duplicates, maxAge time.Duration) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:       name,
		Subjects:   subjects,
		Retention:  jetstream.LimitsPolicy,
		Storage:    jetstream.FileStorage,
		Discard:    jetstream.DiscardOld,
		Duplicates: duplicates,
		MaxAge:     maxAge,
		Replicas:   c.StreamReplicas,
	}
}

// mainStreamConfig keeps events under limits retention (not work-queue), so
// several replicas can share the consumer and operators can inspect and
// replay; Duplicates is the Nats-Msg-Id window.
func mainStreamConfig(c Config) jetstream.StreamConfig {
	return limitsStream(c, c.Stream, c.Subjects().StreamSubjects(), duplicateWindow, c.StreamMaxAge)
}

// dlqStreamConfig keeps dead letters until someone replays or purges them,
// at most DLQMaxAge and DLQMaxBytes (the oldest go first), so a flood of bad
// events cannot fill the server's storage; its duplicate window drops a
// second dead-letter of the same message.
func dlqStreamConfig(c Config) jetstream.StreamConfig {
	sc := limitsStream(c, c.DLQStream, c.Subjects().DLQSubjects(), duplicateWindow, c.DLQMaxAge)
	sc.MaxBytes = c.DLQMaxBytes
	return sc
}

// auditStreamConfig keeps audit records by age (AuditMaxAge); its longer
// duplicate window stores once a record drained twice (docs/audit.md).
func auditStreamConfig(c Config) jetstream.StreamConfig {
	return limitsStream(c, c.AuditStream, c.Subjects().AuditSubjects(), auditDuplicateWindow, c.AuditMaxAge)
}

// consumerConfig is the durable pull consumer all replicas share.
//
// MaxDeliver is -1 (unlimited) on purpose: when the server reaches
// MaxDeliver it keeps the message and only emits an advisory that nobody
// stores, so the message would silently stop being retried. Instead the
// worker counts deliveries itself (NumDelivered) and RetryPolicy.Decide
// dead-letters the message on its last attempt, so nothing is left behind.
// BackOff is not set either: it only applies to ack timeouts, never to a
// Nak; handler errors are retried with NakWithDelay.
func consumerConfig(c Config) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       c.Consumer,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: c.MaxAckPending,
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
	}
}

// checkProvisioned looks the streams and the consumer up without changing
// anything, for accounts that may not create them.
func checkProvisioned(ctx context.Context, js jetstream.JetStream, c Config) error {
	var missing []string
	var errs []error
	for _, name := range []string{c.Stream, c.DLQStream, c.AuditStream} {
		st, err := js.Stream(ctx, name)
		if err != nil {
			if !errors.Is(err, jetstream.ErrStreamNotFound) {
				return fmt.Errorf("look up stream %s: %w", name, err)
			}
			missing = append(missing, "stream "+name)
			errs = append(errs, fmt.Errorf("stream %s: %w", name, err))
			continue
		}
		if err := checkReplicas(name, st.CachedInfo().Config.Replicas, c.StreamReplicas, false); err != nil {
			return err
		}
	}
	cons, err := js.Consumer(ctx, c.Stream, c.Consumer)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound), errors.Is(err, jetstream.ErrStreamNotFound):
		missing = append(missing, "consumer "+c.Consumer)
		errs = append(errs, fmt.Errorf("consumer %s: %w", c.Consumer, err))
	case err != nil:
		return fmt.Errorf("look up consumer %s on %s: %w", c.Consumer, c.Stream, err)
	}
	if len(missing) > 0 {
		return fmt.Errorf("provisioning is off and JetStream lacks %s (create them, or turn provisioning on): %w",
			strings.Join(missing, ", "), errors.Join(errs...))
	}
	cc := cons.CachedInfo().Config
	if cc.AckPolicy != jetstream.AckExplicitPolicy {
		return fmt.Errorf("consumer %s on %s: ack policy is %s, want explicit", c.Consumer, c.Stream, cc.AckPolicy)
	}
	// The worker dead-letters on its last attempt, and may need up to
	// deadLetterTries more deliveries to write the dead letter; a server that
	// stops redelivering before that would strand messages silently.
	if need := max(c.Retry.MaxDeliver, c.Retry.BusyMaxDeliver) + deadLetterTries; cc.MaxDeliver > 0 && cc.MaxDeliver < need {
		return fmt.Errorf("consumer %s on %s: max deliver is %d, want -1 or at least %d", c.Consumer, c.Stream, cc.MaxDeliver, need)
	}
	return nil
}
