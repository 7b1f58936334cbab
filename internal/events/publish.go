package events

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Publisher publishes events to the main stream (`worker publish`, tests,
// other Go services).
type Publisher struct {
	js      jetstream.JetStream
	stream  string
	decoder Decoder
	limits  Limits
}

// NewPublisher returns a Publisher for the stream and prefix of c.
func NewPublisher(js jetstream.JetStream, c Config) *Publisher {
	return &Publisher{
		js:      js,
		stream:  c.Stream,
		decoder: Decoder{Subjects: c.Subjects(), MaxPayload: c.MaxPayload},
		limits:  c.Limits(),
	}
}

// Publish validates payload for subject <prefix>.<suffix> with the Decoder
// and the Limits (an invalid event is refused with the error unless force), then
// JetStream-publishes it with Nats-Msg-Id = the payload's eventId (else the
// caller's Nats-Msg-Id header, else a new unique id), so JetStream drops a
// duplicate publish. When ctx holds a span and header no traceparent, the
// span's context is added as traceparent. header is copied, never changed. It returns the id used and the PubAck
// (PubAck.Duplicate is true for a dropped duplicate).
func (p *Publisher) Publish(ctx context.Context, suffix string, payload []byte, header nats.Header, force bool) (string, *jetstream.PubAck, error) {
	subject := p.decoder.Subjects.For(Kind(suffix))
	if !validSubject(subject) {
		return "", nil, fmt.Errorf("publish %q: not a subject one can publish to", subject)
	}
	ev, err := p.decoder.Decode(subject, payload, "", 0)
	if err == nil {
		err = p.limits.Check(ev)
	}
	if err != nil {
		if !force {
			return "", nil, fmt.Errorf("publish %s: %w", subject, err)
		}
		ev.EventID = looseEventID(payload)
	}
	id := ev.EventID
	if id == "" {
		id = header.Get(HeaderMsgID)
	}
	if id == "" {
		id = nuid.Next()
	}
	m := &nats.Msg{Subject: subject, Data: payload, Header: make(nats.Header, len(header)+1)}
	for k, v := range header {
		m.Header[k] = append([]string(nil), v...)
	}
	m.Header.Set(HeaderMsgID, id)
	if m.Header.Get(HeaderTraceparent) == "" {
		InjectTrace(ctx, m.Header) // the handler's span continues the caller's trace
	}
	ack, err := p.js.PublishMsg(ctx, m, jetstream.WithExpectStream(p.stream))
	if err != nil {
		return id, nil, fmt.Errorf("publish %s: %w", subject, err)
	}
	return id, ack, nil
}

// looseEventID reads eventId from a payload the decoder refused (a forced
// publish), or returns "".
func looseEventID(payload []byte) string {
	var v struct {
		EventID string `json:"eventId"`
	}
	if json.Unmarshal(payload, &v) != nil {
		return ""
	}
	return v.EventID
}
