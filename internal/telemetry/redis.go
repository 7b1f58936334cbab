package telemetry

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcp-registry/worker/internal/events"
)

// RedisMetrics are the Redis client's metrics:
//   - mcp_worker_redis_seconds{op,status}: one round trip (a command, a
//     script call, a pipeline) from send to reply; op is the command name,
//     script:<name> for the worker's Lua scripts, pipeline:<first op> for a
//     pipeline; status ok or error (redis.Nil counts as ok)
//   - mcp_worker_redis_round_trips_total{kind}: round trips made while
//     handling an event of kind (none outside events): divide by
//     mcp_worker_messages_total for round trips per event
//   - mcp_worker_redis_commands_total{kind}: commands sent (a pipeline counts
//     each of its commands)
type RedisMetrics struct {
	seconds    *prometheus.HistogramVec
	roundTrips *prometheus.CounterVec
	commands   *prometheus.CounterVec
}

// NewRedisMetrics creates the metrics and registers them with reg.
func NewRedisMetrics(reg prometheus.Registerer) *RedisMetrics {
	f := promauto.With(reg)
	return &RedisMetrics{
		seconds: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mcp_worker_redis_seconds",
			Help:    "Redis round trips (command, script or pipeline), by op (command, script:<name>, pipeline:<first op>) and status.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"op", "status"}),
		roundTrips: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_worker_redis_round_trips_total",
			Help: "Redis round trips made while handling events, by event kind (none: outside events).",
		}, []string{"kind"}),
		commands: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_worker_redis_commands_total",
			Help: "Redis commands sent while handling events (each command of a pipeline counts), by event kind (none: outside events).",
		}, []string{"kind"}),
	}
}

// Hook returns the go-redis hook that records the metrics; scripts maps a
// script's SHA1 to its name (registry.ScriptNames). Add it with AddHook.
// With named, the hook must be added after go-redis's tracing hook
// (redisotel): it then names that hook's span by the op ("script:commit_load"
// rather than "evalsha"), so a trace says which script ran.
func (m *RedisMetrics) Hook(scripts map[string]string, named bool) redis.Hook {
	return redisHook{m: m, scripts: scripts, named: named}
}

type redisHook struct {
	m       *RedisMetrics
	scripts map[string]string
	named   bool // rename the enclosing redisotel span
}

var _ redis.Hook = redisHook{}

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		op := h.op(cmd)
		h.name(ctx, op)
		start := time.Now()
		err := next(ctx, cmd)
		h.observe(ctx, op, time.Since(start), 1, err)
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		op := "pipeline"
		if len(cmds) > 0 {
			op = "pipeline:" + h.op(cmds[0])
		}
		h.name(ctx, op)
		h.observe(ctx, op, time.Since(start), len(cmds), err)
		return err
	}
}

// name renames the redisotel span around this call after op.
func (h redisHook) name(ctx context.Context, op string) {
	if !h.named {
		return
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetName("redis " + op)
		span.SetAttributes(attribute.String("db.operation.name", op))
	}
}

func (h redisHook) observe(ctx context.Context, op string, took time.Duration, n int, err error) {
	status := "ok"
	if err != nil && !errors.Is(err, redis.Nil) {
		status = "error"
	}
	h.m.seconds.WithLabelValues(op, status).Observe(took.Seconds())
	kind := events.KindLabel(ctx)
	h.m.roundTrips.WithLabelValues(kind).Inc()
	h.m.commands.WithLabelValues(kind).Add(float64(n))
}

// op labels a command: script:<name> for a known script (EVALSHA of its
// hash, or EVAL of its source after a NOSCRIPT), script:other for another
// script (redsync's), else the command's name (a bounded set: the commands
// the worker's code sends).
func (h redisHook) op(cmd redis.Cmder) string {
	name := cmd.Name()
	args := cmd.Args()
	switch name {
	case "evalsha", "evalsha_ro", "eval", "eval_ro":
		if len(args) < 2 {
			return "script:other"
		}
		arg, _ := args[1].(string)
		if !strings.HasPrefix(name, "evalsha") {
			arg = redis.NewScript(arg).Hash() // rare: only after a NOSCRIPT
		}
		if s, ok := h.scripts[strings.ToLower(arg)]; ok {
			return "script:" + s
		}
		return "script:other"
	}
	return name
}
