package main

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/mcp-registry/worker/internal/handlers"
)

// reconcileLoop runs a reconcile pass every --reconcile-every in `worker
// run`. Every replica may run it: a refresh is idempotent under the user's
// lock. Stop waits for the running pass to end.
type reconcileLoop struct {
	rec      *handlers.Reconciler
	every    time.Duration
	rate     float64
	log      *zap.Logger
	checked  prometheus.Counter
	repaired prometheus.Counter
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

func newReconcileLoop(rec *handlers.Reconciler, c Config, log *zap.Logger, reg prometheus.Registerer) *reconcileLoop {
	l := &reconcileLoop{
		rec: rec, every: c.ReconcileEvery, rate: float64(c.ReconcileRate), log: log,
		checked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mcp_worker_reconcile_checked_total", Help: "Loaded users a reconcile pass compared with MongoDB.",
		}),
		repaired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mcp_worker_reconcile_repairs_total", Help: "Loaded users a reconcile pass found different from MongoDB and refreshed.",
		}),
	}
	reg.MustRegister(l.checked, l.repaired)
	return l
}

// Start begins the passes (none when --reconcile-every is 0).
func (l *reconcileLoop) Start() {
	if l.every <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Go(func() {
		t := time.NewTicker(l.every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			checked, repaired, err := l.rec.Pass(ctx, handlers.Options{Rate: l.rate}, func(r handlers.Repair) {
				l.log.Info("Reconcile repaired a user", zap.String("user_id", r.UserID),
					zap.Strings("added", r.Added), zap.Strings("removed", r.Removed))
			})
			l.checked.Add(float64(checked))
			l.repaired.Add(float64(repaired))
			if err != nil && ctx.Err() == nil {
				l.log.Warn("Reconcile pass failed", zap.Int("checked", checked), zap.Error(err))
				continue
			}
			l.log.Info("Reconcile pass done", zap.Int("checked", checked), zap.Int("repaired", repaired))
		}
	})
}

// Stop ends the passes and waits for the running one.
func (l *reconcileLoop) Stop() {
	if l.cancel != nil {
		l.cancel()
	}
	l.wg.Wait()
}
