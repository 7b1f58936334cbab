package lockstatus

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Outcomes of a lock acquisition (label outcome).
const (
	outcomeAcquired  = "acquired"
	outcomeContended = "contended" // still held by another owner after every try
	outcomeCancelled = "cancelled" // the caller's context ended first
	outcomeError     = "error"     // Redis failed
)

// Metrics are the locks' Prometheus metrics. A nil *Metrics records nothing.
//   - mcp_worker_lock_acquisitions_total{outcome}: acquired, contended,
//     cancelled, error
//   - mcp_worker_lock_wait_seconds: time to acquire (or give up), every outcome
//   - mcp_worker_lock_held_seconds: time from acquisition to release
//   - mcp_worker_locks_lost_total: locks whose keep-alive failed while held
//     (the work is cancelled and its fenced writes refused)
type Metrics struct {
	acquisitions *prometheus.CounterVec
	wait         prometheus.Histogram
	held         prometheus.Histogram
	lost         prometheus.Counter
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	buckets := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	return &Metrics{
		acquisitions: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_worker_lock_acquisitions_total",
			Help: "Distributed lock acquisitions, by outcome (acquired, contended, cancelled, error).",
		}, []string{"outcome"}),
		wait: f.NewHistogram(prometheus.HistogramOpts{
			Name: "mcp_worker_lock_wait_seconds", Buckets: buckets,
			Help: "Time spent acquiring a distributed lock (or giving up), every outcome.",
		}),
		held: f.NewHistogram(prometheus.HistogramOpts{
			Name: "mcp_worker_lock_held_seconds", Buckets: buckets,
			Help: "Time a distributed lock was held, from acquisition to release.",
		}),
		lost: f.NewCounter(prometheus.CounterOpts{
			Name: "mcp_worker_locks_lost_total",
			Help: "Distributed locks lost while held (keep-alive failed): the work was cancelled.",
		}),
	}
}

// acquired records one acquisition attempt that ended with err after took.
func (m *Metrics) acquired(ctx context.Context, err error, took time.Duration) {
	if m == nil {
		return
	}
	m.wait.Observe(took.Seconds())
	outcome := outcomeAcquired
	switch {
	case err == nil:
	case errors.Is(err, ErrLocked):
		outcome = outcomeContended
	case ctx.Err() != nil:
		outcome = outcomeCancelled
	default:
		outcome = outcomeError
	}
	m.acquisitions.WithLabelValues(outcome).Inc()
}

// released records how long a lock was held.
func (m *Metrics) released(took time.Duration) {
	if m != nil {
		m.held.Observe(took.Seconds())
	}
}

// lostOne counts a lost lock.
func (m *Metrics) lostOne() {
	if m != nil {
		m.lost.Inc()
	}
}
