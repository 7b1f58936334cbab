package telemetry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/testenv"
)

// A poll reads the consumer's backlog, the dead-letter stream and the loaded
// users; a failing source is counted and keeps its gauge's last value.
func TestIntegrationPollerReadsJetStreamAndLoadedUsers(t *testing.T) {
	n := testenv.StartNATS(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cfg := events.DefaultConfig()
	require.NoError(t, events.Provision(ctx, n.JS, cfg))
	subj := cfg.Subjects()
	for range 3 {
		_, err := n.JS.Publish(ctx, subj.For(events.KindUserLogin), []byte(`{"userId":"u"}`))
		require.NoError(t, err)
	}
	_, err := n.JS.PublishMsg(ctx, &nats.Msg{Subject: cfg.Prefix + ".dlq.user.login", Data: []byte("dead")})
	require.NoError(t, err)

	loaded, loadErr := int64(7), error(nil)
	reg := prometheus.NewPedanticRegistry()
	p := NewPoller(PollerParams{
		JS: n.JS, Stream: cfg.Stream, Consumer: cfg.Consumer, DLQ: cfg.DLQStream,
		LoadedUsers: func(context.Context) (int64, error) { return loaded, loadErr },
		Every:       time.Hour, Registerer: reg,
	})
	p.Poll(ctx)
	assert.Equal(t, 3.0, testutil.ToFloat64(p.pending))
	assert.Equal(t, 0.0, testutil.ToFloat64(p.ackPend))
	assert.Equal(t, 1.0, testutil.ToFloat64(p.dlqMsgs))
	assert.Positive(t, testutil.ToFloat64(p.dlqBytes))
	assert.Equal(t, 7.0, testutil.ToFloat64(p.loaded))
	assert.Positive(t, testutil.ToFloat64(p.lastPoll))

	loaded, loadErr = 0, errors.New("redis down")
	p.Poll(ctx)
	assert.Equal(t, 7.0, testutil.ToFloat64(p.loaded), "the last value stays")
	assert.Equal(t, 1.0, testutil.ToFloat64(p.errs.WithLabelValues("loaded_users")))
	assert.Equal(t, 0.0, testutil.ToFloat64(p.errs.WithLabelValues("consumer")))

	// Start polls at once, Stop waits for the goroutine (goleak checks).
	loadErr = nil
	loaded = 9
	p.Start()
	require.Eventually(t, func() bool { return testutil.ToFloat64(p.loaded) == 9 }, 5*time.Second, 10*time.Millisecond)
	p.Stop()
}
