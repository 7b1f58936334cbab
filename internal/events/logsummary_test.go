package events

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"
)

func TestSummaryCountsByKindAndOutcome(t *testing.T) {
	s := newSummary()
	s.add("user.login", OutcomeDone, time.Millisecond)
	s.add("user.login", OutcomeDone, 3*time.Millisecond)
	s.add("server.updated", OutcomeRetry, 2*time.Millisecond)
	counts, total, slowest := s.take()
	assert.Equal(t, map[string]map[string]int64{
		"user.login":     {OutcomeDone: 2},
		"server.updated": {OutcomeRetry: 1},
	}, counts)
	assert.Equal(t, int64(3), total)
	assert.Equal(t, 3*time.Millisecond, slowest)

	counts, total, _ = s.take()
	assert.Empty(t, counts, "counting starts afresh")
	assert.Zero(t, total)
}

// At info, handled messages show as one summary line per period, not one
// line each; Stop writes the last one.
func TestIntegrationInfoLogIsASummary(t *testing.T) {
	cfg := testConfig()
	cfg.LogSummaryEvery = time.Second
	e := newEnv(t, cfg)
	r := e.start(map[Kind]Handler{KindUserLogin: &recorder{}})
	for i := range 3 {
		e.publish("mcp.user.login", `{"userId":"u`+string(rune('0'+i))+`"}`, nats.Header{})
	}
	e.waitSettled()
	require.Eventually(t, func() bool {
		return len(r.logs.FilterMessage("Messages handled").AllUntimed()) == 1
	}, 5*time.Second, 20*time.Millisecond)
	line := r.logs.FilterMessage("Messages handled").AllUntimed()[0]
	assert.Equal(t, zapcore.InfoLevel, line.Level)
	f := line.ContextMap()
	assert.Equal(t, int64(3), f["messages"])
	assert.Equal(t, map[string]map[string]int64{"user.login": {OutcomeDone: 3}}, f["by_kind"])
	for _, l := range handledLines(r.logs) {
		assert.Equal(t, zapcore.DebugLevel, l.Level, "per-message lines at debug")
	}
}
