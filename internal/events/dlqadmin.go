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

// DeadLetter is one message of the dead-letter stream.
type DeadLetter struct {
	Seq       uint64 // sequence in the dead-letter stream
	Subject   string // original subject
	Reason    string
	Delivered uint64 // deliveries before it was dead-lettered
	StreamSeq uint64 // sequence in the main stream
	Time      time.Time
	Header    nats.Header // the dead letter's own headers, Mcp-Dlq-* included
	// Original holds the original message's headers (from Mcp-Dlq-Headers;
	// for a dead letter written before that header existed, its own headers
	// minus the Mcp-Dlq-* ones).
	Original nats.Header
	Data     []byte
}

// ListDeadLetters returns up to limit dead letters (limit <= 0: all), oldest
// first. It reads messages directly by sequence: no consumer is created.
func ListDeadLetters(ctx context.Context, js jetstream.JetStream, c Config, limit int) ([]DeadLetter, error) {
	st, err := js.Stream(ctx, c.DLQStream)
	if err != nil {
		return nil, fmt.Errorf("list dead letters in %s: %w", c.DLQStream, err)
	}
	var out []DeadLetter
	err = eachDeadLetter(ctx, st, c, func(m *jetstream.RawStreamMsg) bool {
		out = append(out, toDeadLetter(c.Subjects(), m))
		return limit <= 0 || len(out) < limit
	})
	if err != nil {
		return out, fmt.Errorf("list dead letters in %s: %w", c.DLQStream, err)
	}
	return out, nil
}

// ReplayDeadLetters re-publishes dead letters (seqs; empty means all) to
// their original subject with the original payload and headers (minus any
// Nats-* one), and the Nats-Msg-Id "<original id or dlq seq>:replay:<dlq
// seq>". Each is deleted from the dead-letter stream only after its publish
// succeeded; a replay interrupted and run again within the duplicate window
// does not publish twice. A dead letter whose target is not an event subject
// of the worker (checkReplayTarget) is refused and kept: the others are still
// replayed, and the error joins one ErrReplayRefused error per refused dead
// letter. It returns how many were replayed.
func ReplayDeadLetters(ctx context.Context, js jetstream.JetStream, c Config, seqs []uint64) (int, error) {
	st, err := js.Stream(ctx, c.DLQStream)
	if err != nil {
		return 0, fmt.Errorf("replay dead letters from %s: %w", c.DLQStream, err)
	}
	var msgs []*jetstream.RawStreamMsg
	if len(seqs) == 0 {
		err = eachDeadLetter(ctx, st, c, func(m *jetstream.RawStreamMsg) bool {
			msgs = append(msgs, m)
			return true
		})
	} else {
		for _, seq := range seqs {
			m, gerr := st.GetMsg(ctx, seq)
			if gerr != nil {
				err = fmt.Errorf("dead letter %d: %w", seq, gerr)
				break
			}
			msgs = append(msgs, m)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("replay dead letters from %s: %w", c.DLQStream, err)
	}
	n := 0
	var refused []error
	for _, m := range msgs {
		if err := checkReplayTarget(c, m); err != nil {
			refused = append(refused, err)
			continue
		}
		if err := replayOne(ctx, js, st, c, m); err != nil {
			return n, errors.Join(append([]error{fmt.Errorf("replay dead letters from %s: %w", c.DLQStream, err)}, refused...)...)
		}
		n++
	}
	return n, errors.Join(refused...)
}

// checkReplayTarget refuses a dead letter whose target subject (a header
// anyone allowed to publish on the dead-letter subjects can write) is not
// one the decoder accepts: an event subject under the worker's prefix with a
// known verb. Never a $JS.API subject, an inbox, the dead-letter subjects
// or another service's.
func checkReplayTarget(c Config, m *jetstream.RawStreamMsg) error {
	dl := toDeadLetter(c.Subjects(), m)
	if _, ok := c.Subjects().KindOf(dl.Subject); ok {
		return nil
	}
	return fmt.Errorf("%w: dead letter %d: target subject %q is not an event subject under %q (kept in %s)",
		ErrReplayRefused, m.Sequence, dl.Subject, c.Prefix+".", c.DLQStream)
}

// PurgeDeadLetters deletes every dead letter and returns how many there were.
func PurgeDeadLetters(ctx context.Context, js jetstream.JetStream, c Config) (uint64, error) {
	st, err := js.Stream(ctx, c.DLQStream)
	if err != nil {
		return 0, fmt.Errorf("purge dead letters in %s: %w", c.DLQStream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("purge dead letters in %s: %w", c.DLQStream, err)
	}
	if err := st.Purge(ctx); err != nil {
		return 0, fmt.Errorf("purge dead letters in %s: %w", c.DLQStream, err)
	}
	return info.State.Msgs, nil
}

// DeleteDeadLetters deletes exactly the dead letters seqs (by sequence in the
// dead-letter stream) and returns how many it deleted. It checks them all
// first: when one is missing it deletes nothing and names it.
func DeleteDeadLetters(ctx context.Context, js jetstream.JetStream, c Config, seqs []uint64) (uint64, error) {
	st, err := js.Stream(ctx, c.DLQStream)
	if err != nil {
		return 0, fmt.Errorf("delete dead letters in %s: %w", c.DLQStream, err)
	}
	for _, seq := range seqs {
		if _, err := st.GetMsg(ctx, seq); err != nil {
			return 0, fmt.Errorf("delete dead letters in %s: dead letter %d: %w", c.DLQStream, seq, err)
		}
	}
	var n uint64
	for _, seq := range seqs {
		if err := st.DeleteMsg(ctx, seq); err != nil {
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue // deleted meanwhile, or listed twice
			}
			return n, fmt.Errorf("delete dead letters in %s: dead letter %d: %w", c.DLQStream, seq, err)
		}
		n++
	}
	return n, nil
}

// eachDeadLetter calls fn for each dead letter, oldest first, until fn
// returns false. Each get asks for the first message at or after a sequence
// on the dead-letter subjects, so deleted (replayed) ones cost nothing.
func eachDeadLetter(ctx context.Context, st jetstream.Stream, c Config, fn func(*jetstream.RawStreamMsg) bool) error {
	info, err := st.Info(ctx)
	if err != nil {
		return err
	}
	filter := c.Subjects().DLQSubjects()[0]
	for seq := max(info.State.FirstSeq, 1); seq <= info.State.LastSeq; {
		m, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(filter))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("get dead letter at %d: %w", seq, err)
		}
		if m.Sequence > info.State.LastSeq || !fn(m) {
			return nil
		}
		seq = m.Sequence + 1
	}
	return nil
}

// isHeaderToken reports whether name is a header name nats.go sends: an
// RFC 7230 token. A raw-protocol publisher can plant others (say "X/Trace"),
// and one such header must not block the replay of every dead letter.
func isHeaderToken(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alnum && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// replayOne publishes one dead letter back and deletes it.
func replayOne(ctx context.Context, js jetstream.JetStream, st jetstream.Stream, c Config, m *jetstream.RawStreamMsg) error {
	dl := toDeadLetter(c.Subjects(), m)
	h := forwardableHeaders(dl.Original, 1) // never steer the replay
	orig := m.Header.Get(HeaderDLQMsgID)
	if orig == "" {
		orig = strconv.FormatUint(m.Sequence, 10)
	}
	h.Set(HeaderMsgID, orig+":replay:"+strconv.FormatUint(m.Sequence, 10))
	out := &nats.Msg{Subject: dl.Subject, Header: h, Data: m.Data}
	if _, err := js.PublishMsg(ctx, out, jetstream.WithExpectStream(c.Stream)); err != nil {
		return fmt.Errorf("publish dead letter %d to %s: %w", m.Sequence, dl.Subject, err)
	}
	if err := st.DeleteMsg(ctx, m.Sequence); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("delete dead letter %d after its replay: %w", m.Sequence, err)
	}
	return nil
}

// toDeadLetter reads the Mcp-Dlq-* headers of a stored dead letter. A
// missing original subject is derived from the dead-letter subject.
func toDeadLetter(s Subjects, m *jetstream.RawStreamMsg) DeadLetter {
	dl := DeadLetter{
		Seq:     m.Sequence,
		Subject: m.Header.Get(HeaderDLQSubject),
		Reason:  m.Header.Get(HeaderDLQReason),
		Header:  m.Header,
		Data:    m.Data,
		Time:    m.Time, // when it was stored in the dead-letter stream
	}
	if dl.Subject == "" {
		dl.Subject = s.For(Kind(strings.TrimPrefix(m.Subject, s.DLQ(""))))
	}
	if enc := m.Header.Get(HeaderDLQHeaders); enc != "" {
		dl.Original = decodeOriginalHeaders(enc)
	} else { // written before Mcp-Dlq-Headers: the original headers were copied
		dl.Original = make(nats.Header, len(m.Header))
		for k, v := range m.Header {
			if !strings.HasPrefix(strings.ToLower(k), strings.ToLower(dlqHeaderPrefix)) && k != HeaderMsgID {
				dl.Original[k] = v
			}
		}
		if id := m.Header.Get(HeaderDLQMsgID); id != "" {
			dl.Original.Set(HeaderMsgID, id)
		}
	}
	dl.Delivered, _ = strconv.ParseUint(m.Header.Get(HeaderDLQDelivered), 10, 64)
	dl.StreamSeq, _ = strconv.ParseUint(m.Header.Get(HeaderDLQStreamSeq), 10, 64)
	if t, err := time.Parse(time.RFC3339, m.Header.Get(HeaderDLQTime)); err == nil && dl.Time.IsZero() {
		dl.Time = t
	}
	return dl
}
