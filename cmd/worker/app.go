package main

import (
	"context"
	"errors"
	"fmt"
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
			newRedis,
			newMongo,
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
			func(reg *registry.Registry, lc *lockstatus.Locker, src handlers.ServerSource) *handlers.Reconciler {
				return handlers.NewReconciler(reg, lc, src)
			},
			func(rec *handlers.Reconciler, c Config, r prometheus.Registerer) *reconcileLoop {
				return newReconcileLoop(rec, c, log.Named("reconcile"), r)
			},
		),
		registry.Module,
		lockstatus.Module,
		serverdb.Module,
		handlers.Module,
		events.Module,
		ops.Module,
		fx.Invoke(registerLifecycle),
		fx.StartTimeout(4*dialTimeout),
		fx.StopTimeout(cfg.ShutdownTimeout+10*time.Second),
	)
}

// newMetricsRegistry returns the Prometheus registry behind /metrics, with
// the Go and process collectors.
func newMetricsRegistry() (*prometheus.Registry, prometheus.Registerer) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg, reg
}

// newOpsParams wires /readyz to the three dependencies and the consumer.
func newOpsParams(c Config, reg *prometheus.Registry, rdb redis.UniversalClient, mc *mongo.Client,
	nc *nats.Conn, consumer *events.Consumer, log *zap.Logger,
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
	Ops       *ops.Server
	Reconcile *reconcileLoop
}

// registerLifecycle orders start and shutdown. fx runs OnStop hooks in the
// reverse order of registration, so shutdown is:
//  1. stop pulling, let in-flight handlers finish until --shutdown-timeout,
//     then cancel them and nak what is left (their deferred unlocks release
//     the locks as they return);
//  2. stop the reconcile loop (waiting for a running pass), then the ops
//     listener;
//  3. close the clients: NATS (drained, so the last acks are flushed),
//     MongoDB, Redis.
func registerLifecycle(l lifecycle) {
	// Closing the clients is a hook of its own, registered first: it runs
	// last on shutdown, and also when a later OnStart fails (an unreachable
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
	// Only then do the hooks above stop the reconcile loop and the ops
	// listener, and the first hook drain NATS (flushing the last acks and
	// naks) and close MongoDB and Redis: no handler ever runs on a closed client.
	base, cancel := context.WithCancel(context.Background())
	l.LC.Append(fx.Hook{
		OnStart: func(context.Context) error { return l.Consumer.Start(base) },
		OnStop: func(context.Context) error {
			defer cancel()
			ctx, done := context.WithTimeout(context.Background(), l.Config.ShutdownTimeout)
			defer done()
			return l.Consumer.Stop(ctx)
		},
	})
}
