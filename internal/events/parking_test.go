package events

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memParking is an in-memory Parking for the consume-loop tests (the Redis
// one is tested in internal/registry).
type memParking struct {
	mu      sync.Mutex
	entries map[Dependency][][]byte
	fail    bool
}

func newMemParking() *memParking { return &memParking{entries: map[Dependency][][]byte{}} }

func (p *memParking) Park(_ context.Context, dep Dependency, entry []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return errors.New("parking down")
	}
	p.entries[dep] = append(p.entries[dep], bytes.Clone(entry))
	return nil
}

func (p *memParking) Parked(_ context.Context, dep Dependency, n int) ([][]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.entries[dep]
	return append([][]byte(nil), e[:min(n, len(e))]...), nil
}

func (p *memParking) Unpark(_ context.Context, dep Dependency, entry []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, e := range p.entries[dep] {
		if bytes.Equal(e, entry) {
			p.entries[dep] = append(p.entries[dep][:i], p.entries[dep][i+1:]...)
			return nil
		}
	}
	return nil
}

func (p *memParking) len(dep Dependency) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries[dep])
}

func withParking(p Parking) func(*Consumer) {
	return func(c *Consumer) { c.parking = p }
}

// Cold logins held for a MongoDB outage are parked and acknowledged, so that
// they leave MaxAckPending free; warm logins keep flowing; when MongoDB
// serves again the parked logins come back as new messages, are applied,
// and their Mcp-Notify result arrives then (none is sent for the parking).
func TestIntegrationMongoOutageParksHeldMessages(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MaxAckPending = 8
	e := newEnv(t, cfg)
	w := newOutageWorld(t)
	park := newMemParking()
	r := e.start(allKinds(w), withOutages(w.o), withParking(park))
	require.Eventually(t, r.c.Running, 5*time.Second, 10*time.Millisecond)
	inbox, err := e.nats.Conn.SubscribeSync("_INBOX.parked.>")
	require.NoError(t, err)

	w.mongo.down.Store(true)
	cold := []string{"cold-a", "cold-b", "cold-c", "cold-d", "cold-e", "cold-f", "cold-g", "cold-h", "cold-i", "cold-j"}
	for _, u := range cold {
		h := nats.Header{}
		h.Set(HeaderNotify, "_INBOX.parked."+u)
		e.publish("mcp.user.login", `{"userId":"`+u+`"}`, h)
	}
	require.Eventually(t, func() bool { return park.len(DepMongoDB) == len(cold) }, 10*time.Second, 10*time.Millisecond,
		"every cold login parked")
	assert.Zero(t, e.consumerInfo().NumAckPending, "parked messages are acknowledged")
	e.publish("mcp.user.login", `{"userId":"warm-1"}`, nil)
	require.Eventually(t, func() bool { return w.count("warm-1") == 1 }, 3*time.Second, 10*time.Millisecond,
		"a warm login during the MongoDB outage is applied")
	_, err = inbox.NextMsg(200 * time.Millisecond)
	require.ErrorIs(t, err, nats.ErrTimeout, "no result for a parked message")

	w.mongo.down.Store(false)
	require.Eventually(t, func() bool { return w.count(cold...) == len(cold) }, 15*time.Second, 20*time.Millisecond,
		"the parked logins are applied once MongoDB serves")
	assert.Zero(t, park.len(DepMongoDB), "the parking is empty again")
	for range cold {
		m, err := inbox.NextMsg(5 * time.Second)
		require.NoError(t, err)
		assert.Contains(t, string(m.Data), `"outcome":"done"`)
	}
	assert.Empty(t, e.deadLetters())
}

// A message that cannot be parked stays held (ack-pending), as without a
// parking, and is applied once MongoDB serves.
func TestIntegrationUnparkableMessageStaysHeld(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	w := newOutageWorld(t)
	park := newMemParking()
	park.fail = true
	r := e.start(allKinds(w), withOutages(w.o), withParking(park))
	require.Eventually(t, r.c.Running, 5*time.Second, 10*time.Millisecond)
	w.mongo.down.Store(true)
	e.publish("mcp.user.login", `{"userId":"cold-x"}`, nil)
	require.Eventually(t, func() bool { return e.consumerInfo().NumRedelivered > 0 }, 10*time.Second, 10*time.Millisecond,
		"held and redelivered")
	w.mongo.down.Store(false)
	require.Eventually(t, func() bool { return w.count("cold-x") == 1 }, 15*time.Second, 20*time.Millisecond)
	assert.Empty(t, e.deadLetters())
}

// Entries that are not the worker's own (the parking lives in Redis) are
// dropped, never published to another subject.
func TestIntegrationForeignParkedEntriesAreDropped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	w := newOutageWorld(t)
	park := newMemParking()
	require.NoError(t, park.Park(t.Context(), DepMongoDB, []byte(`not json`)))
	require.NoError(t, park.Park(t.Context(), DepMongoDB, []byte(`{"subject":"$JS.API.STREAM.DELETE.MCP_REGISTRY","data":"e30="}`)))
	require.NoError(t, park.Park(t.Context(), DepMongoDB, []byte(`{"subject":"mcp.user.login","data":"eyJ1c2VySWQiOiJjb2xkLXkifQ==","seq":7}`)))
	r := e.start(allKinds(w), withOutages(w.o), withParking(park))
	require.Eventually(t, r.c.Running, 5*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return w.count("cold-y") == 1 }, 10*time.Second, 20*time.Millisecond)
	assert.Zero(t, park.len(DepMongoDB))
	_, err := e.nats.JS.Stream(t.Context(), e.cfg.Stream)
	require.NoError(t, err, "the stream is still there")
}

// Review 8, finding 1: a parked event whose payload has no version keeps,
// published back, the version of its first publication (its first stream
// sequence), not the new, higher sequence that would make it newer than the
// events published while it was parked.
func TestIntegrationParkedUnversionedEventKeepsItsVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	w := newOutageWorld(t)
	park := newMemParking()
	var mu sync.Mutex
	var seen []Event
	h := HandlerFunc(func(ctx context.Context, ev Event) error {
		if ev.UserID == "cold-v" {
			mu.Lock()
			seen = append(seen, ev)
			mu.Unlock()
		}
		return w.Handle(ctx, ev)
	})
	r := e.start(allKinds(h), withOutages(w.o), withParking(park))
	require.Eventually(t, r.c.Running, 5*time.Second, 10*time.Millisecond)

	w.mongo.down.Store(true)
	first := e.publish("mcp.user.login", `{"userId":"cold-v"}`, nil)
	require.Eventually(t, func() bool { return park.len(DepMongoDB) == 1 }, 10*time.Second, 10*time.Millisecond)
	later := e.publish("mcp.user.login", `{"userId":"warm-after"}`, nil)
	w.mongo.down.Store(false)
	require.Eventually(t, func() bool { return w.count("cold-v") == 1 }, 15*time.Second, 10*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	last := seen[len(seen)-1]
	assert.Greater(t, last.StreamSeq, later, "published back as a new message")
	for _, ev := range seen {
		assert.Equal(t, int64(first), ev.Version, "delivery at stream sequence %d", ev.StreamSeq)
	}
}

// A parked event of a second lap keeps its first sequence; the header never
// makes an event newer than its own delivery.
func TestParkedSeqHeader(t *testing.T) {
	t.Parallel()
	c := &Consumer{}
	out := c.republishMsg(parkedEvent{Subject: "mcp.user.login", Seq: 40, VersionSeq: 7})
	assert.Equal(t, "7", out.Header.Get(HeaderParkedSeq))
	out = c.republishMsg(parkedEvent{Subject: "mcp.user.login", Seq: 40}) // an entry parked before VersionSeq
	assert.Equal(t, "40", out.Header.Get(HeaderParkedSeq))
	msg := func(v string) jetstream.Msg { return headerMsg{h: nats.Header{HeaderParkedSeq: []string{v}}} }
	assert.Equal(t, uint64(7), parkedSeq(msg("7"), 50))
	assert.Equal(t, uint64(50), parkedSeq(msg("60"), 50), "never above the delivery's own sequence")
	assert.Equal(t, uint64(50), parkedSeq(msg("x"), 50))
	assert.Equal(t, uint64(50), parkedSeq(msg("0"), 50))
}

type headerMsg struct {
	jetstream.Msg
	h nats.Header
}

func (m headerMsg) Headers() nats.Header { return m.h }
