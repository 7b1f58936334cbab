package events

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// kindUnknown labels a message whose subject is no known kind, so a stream
// of junk subjects cannot blow up the label cardinality.
const kindUnknown = "unknown"

// Metrics are the consume loop's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	messages    *prometheus.CounterVec
	handle      *prometheus.HistogramVec
	inFlight    prometheus.Gauge
	deadLetters *prometheus.CounterVec
	dropped     *prometheus.CounterVec
	refused     prometheus.Counter
	paused      *prometheus.GaugeVec
	held        *prometheus.CounterVec
	parked      *prometheus.CounterVec
	unparked    *prometheus.CounterVec
	fanoutUsers *prometheus.HistogramVec
}

// NewMetrics creates the metrics and registers them with reg (nil registers
// nothing):
//   - mcp_worker_messages_total{kind,outcome}: messages by final or retry outcome
//   - mcp_worker_handle_seconds{kind}: time from receipt to acknowledgement
//   - mcp_worker_in_flight: messages being handled now
//   - mcp_worker_dead_letters_total{kind}: messages moved to the dead-letter stream
//   - mcp_worker_dead_letters_dropped_total{kind}: messages terminated because
//     their dead letter could not be written (alert on any)
//   - mcp_worker_notify_refused_total: Mcp-Notify subjects refused (not an
//     inbox or the notify prefix)
//   - mcp_worker_dependency_paused{dependency}: 1 while outage mode holds
//     the events that need the dependency
//   - mcp_worker_outage_held_total{dependency}: deliveries handed back for
//     an outage without spending their delivery budget
//   - mcp_worker_parked_total{dependency}, mcp_worker_unparked_total{dependency}:
//     messages parked for a paused dependency, and published back (Parking)
//   - mcp_worker_fanout_users{kind,op}: users one event's fan-out granted
//     the server to (op grant) or revoked it from (op revoke)
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		messages: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_worker_messages_total",
			Help: "Messages handled, by event kind and outcome (done, skipped, retry, parked, dead_lettered, dropped).",
		}, []string{"kind", "outcome"}),
		handle: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mcp_worker_handle_seconds",
			Help:    "Time from receiving a message to acknowledging it, by event kind.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"kind"}),
		inFlight: f.NewGauge(prometheus.GaugeOpts{
			Name: "mcp_worker_in_flight",
			Help: "Messages being handled right now by this replica.",
		}),
		deadLetters: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_worker_dead_letters_total",
			Help: "Messages moved to the dead-letter stream, by event kind.",
		}, []string{"kind"}),
		dropped: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_worker_dead_letters_dropped_total",
			Help: "Messages terminated without a dead letter because writing it failed repeatedly, by event kind.",
		}, []string{"kind"}),
		refused: f.NewCounter(prometheus.CounterOpts{
			Name: "mcp_worker_notify_refused_total",
			Help: "Mcp-Notify subjects refused: not under _INBOX. or --notify-prefix, a $ subject, or the worker's own.",
		}),
		paused: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mcp_worker_dependency_paused",
			Help: "1 while the dependency is down and this replica holds the events that need it (Redis: pulling paused).",
		}, []string{"dependency"}),
		parked: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_worker_parked_total",
			Help: "Messages held for a dependency that were parked (stored outside JetStream, acknowledged) instead of held ack-pending.",
		}, []string{"dependency"}),
		unparked: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_worker_unparked_total",
			Help: "Parked messages published back to the stream once their dependency served again.",
		}, []string{"dependency"}),
		held: f.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_worker_outage_held_total",
			Help: "Deliveries handed back because a dependency was down, not counted toward --max-deliver.",
		}, []string{"dependency"}),
		fanoutUsers: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mcp_worker_fanout_users",
			Help:    "Users one server event's fan-out granted the server to (op=grant) or revoked it from (op=revoke), by event kind.",
			Buckets: []float64{0, 1, 10, 100, 1000, 10000, 100000, 1000000},
		}, []string{"kind", "op"}),
	}
}

// begin counts a message in flight and returns the function that ends it.
func (m *Metrics) begin() func() {
	if m == nil {
		return func() {}
	}
	m.inFlight.Inc()
	return m.inFlight.Dec
}

// observe records one handled message.
func (m *Metrics) observe(kind, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.messages.WithLabelValues(kind, outcome).Inc()
	m.handle.WithLabelValues(kind).Observe(took.Seconds())
	switch outcome {
	case OutcomeDeadLettered:
		m.deadLetters.WithLabelValues(kind).Inc()
	case OutcomeDropped:
		m.dropped.WithLabelValues(kind).Inc()
	}
}

// notifyRefused counts one refused Mcp-Notify subject.
func (m *Metrics) notifyRefused() {
	if m != nil {
		m.refused.Inc()
	}
}

// setPaused records whether dep is paused.
func (m *Metrics) setPaused(dep Dependency, paused bool) {
	if m == nil {
		return
	}
	v := 0.0
	if paused {
		v = 1
	}
	m.paused.WithLabelValues(string(dep)).Set(v)
}

// heldBack counts one delivery handed back for an outage of dep.
func (m *Metrics) heldBack(dep Dependency) {
	if m != nil {
		m.held.WithLabelValues(string(dep)).Inc()
	}
}

// fanout records the fan-out a flow reported for one event (nothing when it
// reported none).
func (m *Metrics) fanout(s *eventScope) {
	if m == nil || s == nil || !s.fanned.Load() {
		return
	}
	m.fanoutUsers.WithLabelValues(s.kind, "grant").Observe(float64(s.granted.Load()))
	m.fanoutUsers.WithLabelValues(s.kind, "revoke").Observe(float64(s.revoked.Load()))
}

// parkedEvent counts one message parked for dep.
func (m *Metrics) parkedEvent(dep Dependency) {
	if m != nil {
		m.parked.WithLabelValues(string(dep)).Inc()
	}
}

// unparkedEvent counts one parked message published back for dep.
func (m *Metrics) unparkedEvent(dep Dependency) {
	if m != nil {
		m.unparked.WithLabelValues(string(dep)).Inc()
	}
}
