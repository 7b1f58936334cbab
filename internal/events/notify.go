package events

import (
	"encoding/json"
	"fmt"

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
	if !validSubject(to) {
		return fmt.Errorf("notify: %s header %q is not a subject", HeaderNotify, to)
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
