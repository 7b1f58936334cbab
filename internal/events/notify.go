package events

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// Notification is the result published to a message's Mcp-Notify subject
// once it is finished (done, skipped or dead-lettered; never on a retry).
type Notification struct {
	EventID string `json:"eventId"`
	Subject string `json:"subject"`
	Outcome string `json:"outcome"`
	Error   string `json:"error"` // "" unless dead-lettered or dropped
}

// notify core-publishes the Notification for a finished message whose
// Mcp-Notify header names a subject. Best effort: the caller is not
// JetStream, and the message is acknowledged already.
func (c *Consumer) notify(msg jetstream.Msg, h handled) error {
	to := msg.Headers().Get(HeaderNotify)
	if to == "" {
		return nil
	}
	if err := c.notifyAllowed(to); err != nil {
		c.metrics.notifyRefused()
		return err
	}
	n := Notification{EventID: h.ev.EventID, Subject: msg.Subject(), Outcome: h.outcome}
	if !h.decoded {
		n.EventID = msg.Headers().Get(HeaderMsgID)
	}
	if h.outcome == OutcomeDeadLettered || h.outcome == OutcomeDropped {
		n.Error = h.decision.Reason
	}
	data, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if err := c.conn.Publish(to, data); err != nil {
		return fmt.Errorf("notify %s: %w", to, err)
	}
	return nil
}

// InboxPrefix is the first token of NATS request inboxes (_INBOX.<id>): an
// Mcp-Notify subject under it is always allowed.
const InboxPrefix = "_INBOX"

// notifyAllowed refuses an Mcp-Notify subject the worker must not publish
// to: anything but a literal subject under _INBOX. or the configured notify
// prefix, and in any case a $-subject (JetStream API, system account) or
// one under the worker's own prefix (a result there would be an event or a
// dead letter).
func (c *Consumer) notifyAllowed(to string) error {
	refuse := func(why string) error {
		return fmt.Errorf("notify: %s %q refused: %s", HeaderNotify, to, why)
	}
	switch {
	case !validSubject(to):
		return refuse("not a literal subject")
	case strings.HasPrefix(to, "$"):
		return refuse("a $ subject")
	case under(to, c.cfg.Prefix):
		return refuse("under the worker's own prefix " + c.cfg.Prefix)
	case under(to, InboxPrefix), c.cfg.NotifyPrefix != "" && under(to, c.cfg.NotifyPrefix):
		return nil
	}
	allowed := InboxPrefix + ".>"
	if c.cfg.NotifyPrefix != "" {
		allowed += " or " + c.cfg.NotifyPrefix + ".>"
	}
	return refuse("not under " + allowed)
}

// under reports whether subject is prefix followed by at least one token.
func under(subject, prefix string) bool {
	return strings.HasPrefix(subject, prefix+".")
}
