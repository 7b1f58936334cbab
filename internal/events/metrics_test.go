package events

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// counterValue reads one counter of reg by its label pairs; 0 when absent.
func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue metrics
				}
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	end := m.begin()
	m.observe("user.login", OutcomeDone, 10*time.Millisecond)
	m.observe("user.login", OutcomeDeadLettered, time.Millisecond)
	end()

	assert.Equal(t, 1.0, counterValue(t, reg, "mcp_worker_messages_total", "kind", "user.login", "outcome", "done"))
	assert.Equal(t, 1.0, counterValue(t, reg, "mcp_worker_dead_letters_total", "kind", "user.login"))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, n := range []string{"mcp_worker_messages_total", "mcp_worker_handle_seconds", "mcp_worker_in_flight", "mcp_worker_dead_letters_total"} {
		assert.True(t, names[n], n)
	}

	var none *Metrics // a nil *Metrics records nothing and does not panic
	none.begin()()
	none.observe("user.login", OutcomeDone, time.Millisecond)
}
