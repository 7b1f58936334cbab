package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/ops"
	"github.com/mcp-registry/worker/internal/telemetry"
	"github.com/mcp-registry/worker/internal/testenv"
)

// One worker on real servers with an in-memory span exporter: after real
// events, every metric family of docs/operations.md moved on /metrics, and
// the trace of a `worker publish` reaches the handler's span and, under it,
// the MongoDB reads and the Redis write. The span tree is logged (go test -v).
func TestIntegrationMetricsAndTrace(t *testing.T) {
	n := testenv.StartNATS(t)
	srv, _ := testenv.StartRedisServer(t)
	m := testenv.StartMongo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lc := devstack.LibreChat{DB: m.DB}
	uid, err := lc.AddUser(ctx, "USER", "")
	require.NoError(t, err)
	user := uid.Hex()
	for i, name := range []string{"alpha", "beta"} {
		s, err := lc.AddServer(ctx, name, map[string]any{"url": "https://" + name}, time.UnixMilli(int64(i+1)))
		require.NoError(t, err)
		require.NoError(t, lc.GrantUser(ctx, s, uid, devstack.PermView))
	}
	// A server document with no name: skipped and counted (serverdb.Stats).
	res, err := m.DB.Collection("mcpservers").InsertOne(ctx, bson.D{{Key: "config", Value: bson.D{}}})
	require.NoError(t, err)
	require.NoError(t, lc.GrantUser(ctx, res.InsertedID.(bson.ObjectID), uid, devstack.PermView))

	cfg := loadTestConfig(t, "--nats-url", n.URL, "--redis-url", "redis://"+srv.Addr, "--mongodb-uri", m.URI,
		"--ops-addr", "127.0.0.1:0", "--key-prefix", "obs:", "--metrics-poll-every", "100ms")
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	var opsSrv *ops.Server
	app := fx.New(appOptions(cfg, zap.New(zapcore.NewNopCore())),
		fx.Decorate(func(telemetry.Tracing) telemetry.Tracing {
			return telemetry.Tracing{Provider: tp, Enabled: true, Shutdown: tp.Shutdown}
		}),
		fx.Populate(&opsSrv))
	require.NoError(t, app.Err())
	require.NoError(t, app.Start(ctx))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		assert.NoError(t, app.Stop(sctx))
	})

	// The login as `worker publish user.login` sends it.
	pub := events.NewPublisher(n.JS, cfg.eventsConfig())
	_, _, traceID, err := publishTraced(ctx, tp, pub, "user.login", fmt.Appendf(nil, `{"userId":%q}`, user), nil, false)
	require.NoError(t, err)
	waitSettled(t, n.JS, cfg)
	publish(t, n.JS, "mcp.server.access", `{"serverName":"beta","allowedUserIds":[],"config":{},"version":5}`, "access-1")
	publish(t, n.JS, "mcp.server.updated", `{"serverName":"oops","config":"not an object","version":1}`, "bad-1")
	waitSettled(t, n.JS, cfg)

	var fams map[string]*dto.MetricFamily
	require.Eventually(t, func() bool {
		fams = scrape(t, "http://"+opsSrv.Addr()+"/metrics")
		return value(fams, "mcp_worker_dead_letter_messages", nil) >= 1 && value(fams, "mcp_worker_loaded_users", nil) >= 1
	}, 10*time.Second, 100*time.Millisecond, "the poller saw the dead letter and the loaded user")

	moved := []struct {
		family string
		labels map[string]string
	}{
		{"mcp_worker_messages_total", map[string]string{"kind": "user.login", "outcome": "done"}},
		{"mcp_worker_redis_seconds", map[string]string{"op": "script:commit_load", "status": "ok"}},
		{"mcp_worker_redis_round_trips_total", map[string]string{"kind": "user.login"}},
		{"mcp_worker_redis_commands_total", map[string]string{"kind": "server.access"}},
		{"mcp_worker_mongodb_seconds", map[string]string{"command": "find", "collection": "aclentries", "status": "ok"}},
		{"mcp_worker_mongodb_queries_total", map[string]string{"kind": "user.login"}},
		{"mcp_worker_lock_acquisitions_total", map[string]string{"outcome": "acquired"}},
		{"mcp_worker_lock_wait_seconds", nil},
		{"mcp_worker_lock_held_seconds", nil},
		{"mcp_worker_fanout_users", map[string]string{"kind": "server.access", "op": "revoke"}},
		{"mcp_worker_loaded_users", nil},
		{"mcp_worker_dead_letter_messages", nil},
		{"mcp_worker_dead_letter_bytes", nil},
		{"mcp_worker_poll_timestamp_seconds", nil},
		{"mcp_worker_mongodb_skipped_unnamed_total", nil},
		{"mcp_worker_build_info", nil},
		{"go_build_info", nil},
		{"go_goroutines", nil},
	}
	for _, mv := range moved {
		assert.Positive(t, value(fams, mv.family, mv.labels), "%s%v moved", mv.family, mv.labels)
	}
	// Exported, at zero here: moved by their own tests (lockstatus, telemetry).
	for _, f := range []string{
		"mcp_worker_locks_lost_total", "mcp_worker_consumer_pending", "mcp_worker_consumer_ack_pending",
		"mcp_worker_consumer_redelivered", "mcp_worker_mongodb_dropped_duplicates_total",
	} {
		assert.Contains(t, fams, f)
	}

	spans := exp.GetSpans().Snapshots()
	tree := spanTree(spans, traceID)
	t.Logf("trace %s, from worker publish to the Redis write:\n%s", traceID, tree)
	for _, want := range []string{
		"publish user.login [producer]\n  process user.login [consumer]\n",
		"    redis script:commit_load [client]\n",
		"    find aclentries [client]\n",
	} {
		assert.Contains(t, tree, want)
	}
}

// scrape reads /metrics in the text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url) //nolint:noctx // a test against a local listener
	require.NoError(t, err)
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// value is the sum over the series of family matching labels: counter and
// gauge values, histogram sample counts.
func value(fams map[string]*dto.MetricFamily, family string, labels map[string]string) float64 {
	f, ok := fams[family]
	if !ok {
		return 0
	}
	var sum float64
	for _, m := range f.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// spanTree renders the spans of one trace as an indented tree, children in
// start order, each with its kind.
func spanTree(spans []sdktrace.ReadOnlySpan, traceID string) string {
	children := map[trace.SpanID][]sdktrace.ReadOnlySpan{}
	var roots []sdktrace.ReadOnlySpan
	in := map[trace.SpanID]bool{}
	for _, s := range spans {
		if s.SpanContext().TraceID().String() == traceID {
			in[s.SpanContext().SpanID()] = true
		}
	}
	for _, s := range spans {
		if s.SpanContext().TraceID().String() != traceID {
			continue
		}
		if p := s.Parent().SpanID(); in[p] {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	var b strings.Builder
	var walk func(s sdktrace.ReadOnlySpan, depth int)
	walk = func(s sdktrace.ReadOnlySpan, depth int) {
		fmt.Fprintf(&b, "%s%s [%s]\n", strings.Repeat("  ", depth), s.Name(), s.SpanKind())
		kids := children[s.SpanContext().SpanID()]
		sort.Slice(kids, func(i, j int) bool { return kids[i].StartTime().Before(kids[j].StartTime()) })
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return b.String()
}
