package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// HeaderDLQMsgID keeps a dead letter's original Nats-Msg-Id (the dead letter
// has its own), so that a replay can derive its id from it.
const HeaderDLQMsgID = "Mcp-Dlq-Msg-Id"

// dlqHeaderPrefix starts every header the dead-lettering adds; a replay
// removes them.
const dlqHeaderPrefix = "Mcp-Dlq-"

// publishDeadLetter copies msg to the dead-letter stream and waits for the
// PubAck. The copy has the original payload, the original headers as data
// (Mcp-Dlq-Headers) plus the Mcp-Dlq-* facts, and the Nats-Msg-Id
// "dlq:<stream>:<stream seq>", so that dead-lettering one message twice (a
// Term lost, a redelivery) stores it once. The caller Terms the message only
// when this returned nil, or when it gave up (deadLetterTries).
func (c *Consumer) publishDeadLetter(ctx context.Context, msg jetstream.Msg, meta *jetstream.MsgMetadata, reason string) error {
	dl := deadLetterMsg(c.decoder.Subjects, msg, meta, reason, time.Now())
	_, err := c.js.PublishMsg(ctx, dl, jetstream.WithExpectStream(c.cfg.DLQStream))
	if errors.Is(err, nats.ErrMaxPayload) {
		// The headers pushed a payload near the server's limit over it.
		// Keep the facts, drop the payload, rather than retry forever.
		dl.Data = nil
		dl.Header.Set(HeaderDLQReason, oneLine(reason+" (payload dropped: too large for the dead-letter stream)"))
		_, err = c.js.PublishMsg(ctx, dl, jetstream.WithExpectStream(c.cfg.DLQStream))
	}
	if err != nil {
		return fmt.Errorf("dead-letter to %s: %w", dl.Subject, err)
	}
	return nil
}

// deadLetterMsg builds the dead-letter copy of msg. None of the original
// headers becomes a header of the copy: a Nats-Expected-* header would make
// its publish fail, and 64 KiB of them would not fit beside ours. They are
// kept as data in Mcp-Dlq-Headers, at most maxOriginalHeaderBytes of them.
func deadLetterMsg(s Subjects, msg jetstream.Msg, meta *jetstream.MsgMetadata, reason string, now time.Time) *nats.Msg {
	orig := msg.Headers()
	h := make(nats.Header, 9)
	enc, dropped := encodeOriginalHeaders(orig, maxOriginalHeaderBytes)
	if enc != "" {
		h.Set(HeaderDLQHeaders, enc)
	}
	if dropped > 0 {
		h.Set(HeaderDLQHeadersDropped, strconv.Itoa(dropped))
	}
	if id := orig.Get(HeaderMsgID); id != "" {
		h.Set(HeaderDLQMsgID, clipHeader(id))
	}
	h.Set(HeaderDLQReason, oneLine(reason))
	h.Set(HeaderDLQSubject, msg.Subject())
	h.Set(HeaderDLQDelivered, strconv.FormatUint(meta.NumDelivered, 10))
	h.Set(HeaderDLQStreamSeq, strconv.FormatUint(meta.Sequence.Stream, 10))
	h.Set(HeaderDLQTime, now.UTC().Format(time.RFC3339))
	h.Set(HeaderMsgID, "dlq:"+meta.Stream+":"+strconv.FormatUint(meta.Sequence.Stream, 10))
	return &nats.Msg{Subject: s.DLQ(msg.Subject()), Header: h, Data: msg.Data()}
}

// maxReasonBytes bounds the reason header of a dead letter.
const maxReasonBytes = 2 << 10

// clipHeader bounds a header value copied from a message.
func clipHeader(v string) string {
	if len(v) > maxReasonBytes {
		return strings.ToValidUTF8(v[:maxReasonBytes], "") + "..."
	}
	return v
}

// oneLine makes s safe as a header value: NATS headers cannot hold CR or LF.
// It also bounds the value's length.
func oneLine(s string) string {
	return clipHeader(strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s))
}

// deadLetterTries bounds the attempts to write one message's dead letter; at
// the last failed one the message is terminated (outcome dropped) instead of
// handed back, so a dead letter that can never be written cannot loop.
const deadLetterTries = 10
