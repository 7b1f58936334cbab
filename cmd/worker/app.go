package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/handlers"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/ops"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/serverdb"
	"github.com/mcp-registry/worker/internal/telemetry"
)

// appOptions is the composition root of `worker run`: the only place that
// builds clients (each closed by an OnStop) and the one place that orders
// start and shutdown.
func appOptions(cfg Config, log *zap.Logger) fx.Option {
	return fx.Options(
		fx.WithLogger(func() fxevent.Logger {
			l := &fxevent.ZapLogger{Logger: log.Named("fx")}
			l.UseLogLevel(zapcore.DebugLevel) // fx's wiring events only at debug; errors stay errors
			return l
		}),
		fx.Supply(cfg, log),
		fx.Provide(
			newTracing,
			tracerProvider,
			newInstrumentedRedis,
			newInstrumentedMongo,
			func(c Config) (*nats.Conn, error) { return connectNATS(c, log.Named("nats")) },
			func(nc *nats.Conn) (jetstream.JetStream, error) { return jetstream.New(nc) },
			newMetricsRegistry,
			func(s *serverdb.Store) handlers.ServerSource { return s },
			func(s *serverdb.Store) handlers.ServerIDs { return s },
			func(s *serverdb.Store) handlers.AccessSource { return s },
			Config.eventsConfig,
			Config.registryConfig,
			Config.lockConfig,
			Config.serverdbConfig,
			Config.handlersConfig,
			newOpsParams,
			newWatches,
			newParking,
			func(o *events.Outages) handlers.Gate { return o },
			func(js jetstream.JetStream, ec events.Config) handlers.Auditor {
				return events.NewAuditPublisher(js, ec, workerID())
			},
			func(reg *registry.Registry, lc *lockstatus.Locker, src handlers.ServerSource, a handlers.Auditor) *handlers.Reconciler {
				return handlers.NewReconciler(reg, lc, src).WithAuditor(a)
			},
			func(rec *handlers.Reconciler, c Config, r prometheus.Registerer) *reconcileLoop {
				return newReconcileLoop(rec, c, log.Named("reconcile"), r)
			},
			newPoller,
		),
		registry.Module,
		lockstatus.Module,
		serverdb.Module,
		handlers.Module,
		events.Module,
		ops.Module,
		fx.Invoke(registerLifecycle, registerStoreStats), // lifecycle first: it builds NATS before any other client
		fx.StartTimeout(4*dialTimeout),
		fx.StopTimeout(cfg.ShutdownTimeout+10*time.Second),
	)
}

// workerID names this worker in its audit records: the host name (a
// Kubernetes pod's name) and the process id.
func workerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

// newMetricsRegistry returns the Prometheus registry behind /metrics, with
// the Go and process collectors and the build info.
func newMetricsRegistry() (*prometheus.Registry, prometheus.Registerer) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	telemetry.RegisterBuildInfo(reg)
	return reg, reg
}

// newWatches gives outage mode its probes (events.Outages): Redis pauses
// pulling, as every flow needs it; MongoDB holds only the events that fail
// on it (cold logins, server events that resolve a server), so warm logins
// and the other server events keep flowing.
func newWatches(c Config, rdb redis.UniversalClient, mc *mongo.Client) events.Watches {
	return events.Watches{
		events.DepRedis: {Probe: func(ctx context.Context) error { return probeRedis(ctx, rdb) }, PausesPulling: true},
		events.DepMongoDB: {Probe: func(ctx context.Context) error {
			if err := mc.Ping(ctx, nil); err != nil {
				return scrubSecrets(err, c.MongoURI) // logged by the probe loop
			}
			return nil
		}},
	}
}

// writeCheckScript writes nothing and needs no key (any node of a cluster
// runs it), but a script with a shebang and without the no-writes flag may
// write, so Redis 7 refuses to start it while out of memory ("OOM command
// not allowed"), exactly as it refuses the flows' scripts' first write.
const writeCheckScript = "#!lua\nreturn 1"

// probeRedis probes Redis: every master of a cluster (a failed-over shard
// must not look healthy because another answers), else the one server.
func probeRedis(ctx context.Context, rdb redis.UniversalClient) error {
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return probeRedisNode(ctx, m) })
	}
	return probeRedisNode(ctx, rdb)
}

// probeRedisNode pings one server, checks that it accepts writes and, where
// it serves INFO, that it is a master: a demoted master (a failover the
// client has not followed) answers PING but refuses every write with
// READONLY, and a full one (maxmemory under noeviction) refuses them with
// OOM; every flow writes. Only a "not serving writes" reply to the write
// check (registry.Unreachable: OOM, READONLY, ...) fails the probe: a server
// that refuses the script itself (the dev stack's embedded server does not
// know shebangs; a proxy routes EVAL by its first key) is judged without it,
// else the probe would fail for good and outage mode never resume. A server
// that refuses INFO (a proxy, an ACL without +info) is judged by its PING and
// write check alone.
func probeRedisNode(ctx context.Context, c redis.Cmdable) error {
	if err := c.Ping(ctx).Err(); err != nil {
		return err
	}
	if err := c.Eval(ctx, writeCheckScript, nil).Err(); err != nil {
		if _, refused := errors.AsType[redis.Error](err); !refused || registry.Unreachable(err) {
			return err
		}
	}
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		if _, refused := errors.AsType[redis.Error](err); refused {
			return nil
		}
		return err
	}
	if role := infoFields(info)["role"]; role != "" && role != "master" {
		return fmt.Errorf("redis answers as a %s: writes are refused (READONLY)", role)
	}
	return nil
}

// registerStoreStats exports serverdb.Stats, the odd server documents met.
func registerStoreStats(store *serverdb.Store, reg prometheus.Registerer) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "mcp_worker_mongodb_skipped_unnamed_total",
			Help: "Server documents skipped because they have neither serverName nor mcp_id.",
		}, func() float64 { return float64(store.Stats().SkippedUnnamed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "mcp_worker_mongodb_dropped_duplicates_total",
			Help: "Server documents dropped because another accessible document had the same name and a newer updatedAt.",
		}, func() float64 { return float64(store.Stats().DroppedDuplicates) }),
	)
}

// newOpsParams wires /readyz to the three dependencies and the consumer
// (not ready while outage mode holds events for a dependency).
func newOpsParams(c Config, reg *prometheus.Registry, rdb redis.UniversalClient, mc *mongo.Client,
	nc *nats.Conn, consumer *events.Consumer, outages *events.Outages, log *zap.Logger,
) ops.Params {
	return ops.Params{
		Addr:     c.opsAddr(),
		Registry: reg,
		Logger:   log.Named("ops"),
		Ready: map[string]ops.Check{
			"redis": func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
			"mongodb": func(ctx context.Context) error {
				if err := mc.Ping(ctx, nil); err != nil {
					return scrubSecrets(err, c.MongoURI) // logged by ops on a change
				}
				return nil
			},
			"nats": func(context.Context) error {
				if s := nc.Status(); s != nats.CONNECTED {
					return fmt.Errorf("connection %s", s)
				}
				return nil
			},
			"consumer": func(context.Context) error {
				if !consumer.Running() {
					return errors.New("not running")
				}
				if down := outages.Paused(); len(down) > 0 {
					return fmt.Errorf("holding events while down: %v", down)
				}
				return nil
			},
		},
	}
}

// lifecycle is everything registerLifecycle orders.
type lifecycle struct {
	fx.In

	LC     fx.Lifecycle
	Config Config
	Log    *zap.Logger
	// fx builds these fields in order: NATS, the one client that dials when
	// built, comes first, so that an unreachable NATS leaves no other client
	// behind (a failed build runs no OnStop).
	NATS      *nats.Conn
	JS        jetstream.JetStream
	Redis     redis.UniversalClient
	Registry  *registry.Registry
	Mongo     *mongo.Client
	Events    events.Config
	Consumer  *events.Consumer
	Outages   *events.Outages
	Ops       *ops.Server
	Reconcile *reconcileLoop
	Poller    *telemetry.Poller
	Tracing   telemetry.Tracing
}

// registerLifecycle orders start and shutdown. fx runs OnStop hooks in the
// reverse order of registration, so shutdown is:
//  1. stop pulling, let in-flight handlers finish until --shutdown-timeout,
//     then cancel them and nak what is left (their deferred unlocks release
//     the locks as they return); then stop outage mode's probes;
//  2. stop the reconcile loop (waiting for a running pass), the metrics
//     poller, then the ops listener;
//  3. close the clients: NATS (drained, so the last acks are flushed),
//     MongoDB, Redis;
//  4. flush the spans still buffered to the OTLP endpoint (tracing on).
func registerLifecycle(l lifecycle) {
	l.LC.Append(fx.Hook{OnStop: l.Tracing.Shutdown})
	// Closing the clients is a hook of its own, registered right after the
	// tracing flush: it runs last but for that on shutdown, and also when a
	// later OnStart fails (an unreachable
	// Redis or MongoDB at start), since fx stops every hook started before
	// the failing one.
	l.LC.Append(fx.Hook{
		OnStop: func(ctx context.Context) error {
			if err := l.NATS.Drain(); err != nil {
				l.NATS.Close()
			}
			return errors.Join(l.Mongo.Disconnect(ctx), l.Redis.Close())
		},
	})
	l.LC.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := pingRedis(ctx, l.Redis); err != nil {
				return err
			}
			if err := checkRedisServer(ctx, l.Redis, maskURL(l.Config.RedisURL), l.Log); err != nil {
				return err
			}
			if err := l.Registry.EnsureLayout(ctx); err != nil {
				return fmt.Errorf("redis: %w", err)
			}
			return pingMongo(ctx, l.Mongo, l.Config.MongoURI)
		},
	})
	l.LC.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := events.Provision(ctx, l.JS, l.Events); err != nil {
				return fmt.Errorf("jetstream at %s: %w", l.NATS.ConnectedUrlRedacted(), err)
			}
			return nil
		},
	})
	l.LC.Append(fx.Hook{OnStart: l.Ops.Start, OnStop: l.Ops.Stop})
	l.LC.Append(fx.StartStopHook(l.Poller.Start, l.Poller.Stop))
	l.LC.Append(fx.StartStopHook(l.Reconcile.Start, l.Reconcile.Stop))
	// The consume loop, registered last so that it stops first. Its OnStop
	// (events.Consumer.Stop, where the order is documented) runs, within
	// --shutdown-timeout:
	//  1. stop pulling: the pull iterator is drained, no pull request is sent;
	//  2. nak at once the messages fetched but not started (another replica
	//     gets them without waiting for AckWait);
	//  3. wait for the in-flight handlers until the timeout;
	//  4. then cancel their contexts; each result still maps through
	//     RetryPolicy.Decide (a cancellation naks: redelivered elsewhere), and
	//     each handler's deferred unlock releases its locks as it returns;
	//  5. return only when every consumer goroutine has returned.
	//  6. flush the acks sent (a round trip: acks are plain, not DoubleAck),
	//     then stop outage mode's probes.
	// Only then do the hooks above stop the reconcile loop, the metrics
	// poller and the ops listener, then drain NATS and close MongoDB and
	// Redis (no handler ever runs on a closed client), and last flush the
	// buffered spans.
	base, cancel := context.WithCancel(context.Background())
	l.LC.Append(fx.Hook{
		OnStart: func(context.Context) error { return l.Consumer.Start(base) },
		OnStop: func(context.Context) error {
			defer cancel()
			defer l.Outages.Close() // its probes, once nothing consults it
			ctx, done := context.WithTimeout(context.Background(), l.Config.ShutdownTimeout)
			defer done()
			return l.Consumer.Stop(ctx)
		},
	})
}
