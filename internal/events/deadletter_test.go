package events

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"
)

// A poison message whose headers would make a copied dead letter fail
// (JetStream's Nats-Expected-* checks, or headers filling max_payload) is
// still dead-lettered at once: the original headers travel as data.
func TestIntegrationDeadLetterCarriesHeadersAsData(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	r := e.start(allKinds(&recorder{}))

	// The main stream's last message on mcp.user.login is seq 1, so the
	// original passes its own expectation; the dead-letter subject has none.
	e.publish("mcp.user.login", `{"userId":"u0"}`, nil)
	expect := nats.Header{}
	expect.Set("Nats-Expected-Last-Subject-Sequence", "1")
	expect.Set("X-Trace", "t-1")
	e.publish("mcp.user.login", `not json`, expect)

	// Headers just under JetStream's 64 KiB header limit.
	data := `{"userId":""}`
	big := nats.Header{}
	big.Set("X-Big", strings.Repeat("b", 64<<10-21-100))
	e.publish("mcp.user.login", data, big)

	dls := e.waitDeadLetters(2)
	info := e.waitSettled()
	assert.Equal(t, uint64(3), info.Delivered.Consumer, "each message delivered once")

	// Replicas handle messages concurrently: the dead letters come in any order.
	byTrace, huge := dls[0], dls[1]
	if string(byTrace.Data) != "not json" {
		byTrace, huge = huge, byTrace
	}
	assert.Equal(t, "not json", string(byTrace.Data))
	assert.Equal(t, "1", byTrace.Original.Get("Nats-Expected-Last-Subject-Sequence"), "kept as data")
	assert.Equal(t, "t-1", byTrace.Original.Get("X-Trace"))
	for k := range byTrace.Header {
		if strings.HasPrefix(k, "Nats-") {
			assert.Contains(t, []string{HeaderMsgID, "Nats-Expected-Stream"}, k, "only the dead letter's own Nats-* headers")
		}
	}
	assert.Equal(t, e.cfg.DLQStream, byTrace.Header.Get("Nats-Expected-Stream"))

	assert.Equal(t, data, string(huge.Data))
	assert.Empty(t, huge.Original.Get("X-Big"), "too large to keep")
	assert.NotEmpty(t, huge.Header.Get(HeaderDLQHeadersDropped))
	assert.Contains(t, huge.Reason, "userId")
	assert.Zero(t, counterValue(t, r.reg, "mcp_worker_dead_letters_dropped_total", "kind", "user.login"))
}

// A message whose dead letter cannot be written (here: the dead-letter stream
// is gone) is tried a bounded number of times, then terminated with an
// error line and a counter, never handed back forever.
func TestIntegrationUnwritableDeadLetterIsDroppedAfterBoundedTries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	require.NoError(t, e.nats.JS.DeleteStream(ctxT(t), e.cfg.DLQStream))
	r := e.start(allKinds(&recorder{}))

	e.publish("mcp.user.login", `not json`, nil)
	info := e.waitSettled()
	assert.Equal(t, uint64(deadLetterTries), info.Delivered.Consumer)
	assert.Equal(t, 1.0, counterValue(t, r.reg, "mcp_worker_dead_letters_dropped_total", "kind", "user.login"))
	assert.Equal(t, 1.0, counterValue(t, r.reg, "mcp_worker_messages_total", "kind", "user.login", "outcome", OutcomeDropped))

	require.Eventually(t, func() bool {
		for _, l := range handledLines(r.logs) {
			if l.ContextMap()["outcome"] == OutcomeDropped {
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond)
	for _, l := range handledLines(r.logs) {
		if l.ContextMap()["outcome"] == OutcomeDropped {
			assert.Equal(t, zapcore.ErrorLevel, l.Level)
			assert.NotEmpty(t, l.ContextMap()["dead_letter_error"])
		}
	}
	// Nothing more arrives: it was terminated.
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, uint64(deadLetterTries), e.consumerInfo().Delivered.Consumer)
}

func TestEncodeOriginalHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		in          nats.Header
		limit       int
		wantKept    []string
		wantDropped bool
	}{
		{"none", nil, 100, nil, false},
		{"all fit", nats.Header{"A": {"1"}, "Nats-Expected-Stream": {"X"}}, 100, []string{"A", "Nats-Expected-Stream"}, false},
		{"one too big", nats.Header{"A": {"1"}, "B": {strings.Repeat("x", 200)}, "C": {"3"}}, 100, []string{"A", "C"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			enc, dropped := encodeOriginalHeaders(tt.in, tt.limit)
			assert.LessOrEqual(t, len(enc), tt.limit)
			assert.Equal(t, tt.wantDropped, dropped > 0)
			got := decodeOriginalHeaders(enc)
			var keys []string
			for k := range got {
				keys = append(keys, k)
			}
			assert.ElementsMatch(t, tt.wantKept, keys)
		})
	}
}
