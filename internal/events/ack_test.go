package events_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	def := events.DefaultRetryPolicy()
	redisDown := errors.New("redis down")
	huge := events.RetryPolicy{MaxDeliver: math.MaxInt, BaseDelay: time.Second, MaxDelay: time.Hour, BusyMaxDeliver: math.MaxInt}
	hugeBase := events.RetryPolicy{MaxDeliver: 100, BaseDelay: math.MaxInt64 / 3, MaxDelay: math.MaxInt64, BusyMaxDeliver: 1}
	nak := func(d time.Duration, reason string) events.Decision {
		return events.Decision{Action: events.ActionNak, Delay: d, Outcome: events.OutcomeRetry, Reason: reason}
	}
	dead := func(reason string) events.Decision {
		return events.Decision{Action: events.ActionDeadLetter, Outcome: events.OutcomeDeadLettered, Reason: reason}
	}
	tests := []struct {
		name      string
		policy    *events.RetryPolicy // nil means the default
		err       error
		delivered uint64
		want      events.Decision
	}{
		{"nil", nil, nil, 1, events.Decision{Action: events.ActionAck, Outcome: events.OutcomeDone}},
		{"nil at the last delivery", nil, nil, 10, events.Decision{Action: events.ActionAck, Outcome: events.OutcomeDone}},
		{
			"skip", nil, events.Skipf("stale version %d", 3), 1,
			events.Decision{Action: events.ActionAck, Outcome: events.OutcomeSkipped, Reason: "skipped: stale version 3"},
		},
		{
			"wrapped skip", nil, fmt.Errorf("access s1: %w", events.Skipf("stale")), 4,
			events.Decision{Action: events.ActionAck, Outcome: events.OutcomeSkipped, Reason: "access s1: skipped: stale"},
		},
		{"permanent", nil, events.Permanentf("bad payload"), 1, dead("permanent: bad payload")},
		{
			"wrapped permanent", nil, fmt.Errorf("created s1: %w", events.Permanentf("no such user")), 2,
			dead("created s1: permanent: no such user"),
		},
		{"busy", nil, events.Busy(2*time.Second, "load in progress"), 3, nak(2*time.Second, "busy: load in progress")},
		{
			"wrapped busy", nil, fmt.Errorf("login u1: %w", events.Busy(time.Second, "locked")), 50,
			nak(time.Second, "login u1: busy: locked"),
		},
		{"busy without delay uses base delay", nil, events.Busy(0, "locked"), 1, nak(500*time.Millisecond, "busy: locked")},
		{"busy delay capped", nil, events.Busy(time.Hour, "locked"), 1, nak(time.Minute, "busy: locked")},
		{"busy just under the limit", nil, events.Busy(time.Second, "locked"), 199, nak(time.Second, "busy: locked")},
		{
			"busy at the limit", nil, events.Busy(time.Second, "locked"), 200,
			dead("still busy after 200 deliveries: busy: locked"),
		},
		{"transient first", nil, redisDown, 1, nak(500*time.Millisecond, "redis down")},
		{"transient second", nil, redisDown, 2, nak(time.Second, "redis down")},
		{"transient third", nil, redisDown, 3, nak(2*time.Second, "redis down")},
		{"transient seventh", nil, redisDown, 7, nak(32*time.Second, "redis down")},
		{"transient capped", nil, redisDown, 8, nak(time.Minute, "redis down")},
		{"transient before the last", nil, redisDown, 9, nak(time.Minute, "redis down")},
		{"transient at max", nil, redisDown, 10, dead("gave up after 10 deliveries: redis down")},
		{"transient past max", nil, redisDown, 11, dead("gave up after 11 deliveries: redis down")},
		{
			"shutdown on the last delivery is handed back", nil, fmt.Errorf("%w: %w", events.ErrShutdown, redisDown), 10,
			nak(0, "worker shutting down: redis down"),
		},
		{
			"permanent during shutdown is still dead-lettered", nil, fmt.Errorf("%w: %w", events.ErrShutdown, events.Permanentf("bad")), 1,
			dead("worker shutting down: permanent: bad"),
		},
		{"delivered 0 counts as 1", nil, redisDown, 0, nak(500*time.Millisecond, "redis down")},
		{
			"deadline exceeded is transient", nil, fmt.Errorf("load u1: %w", context.DeadlineExceeded), 1,
			nak(500*time.Millisecond, "load u1: context deadline exceeded"),
		},
		{"huge delivered count does not overflow", &huge, redisDown, math.MaxInt64 - 1, nak(time.Hour, "redis down")},
		{
			"largest delivered count", nil, redisDown, math.MaxUint64,
			dead("gave up after 18446744073709551615 deliveries: redis down"),
		},
		{"huge base delay does not overflow", &hugeBase, redisDown, 5, nak(math.MaxInt64, "redis down")},
		{
			"busy limit of 1", &hugeBase, events.Busy(time.Second, "locked"), 1,
			dead("still busy after 1 deliveries: busy: locked"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := def
			if tt.policy != nil {
				p = *tt.policy
			}
			// The nominal delays: no jitter drawn (TestDecideJitter).
			p = events.WithJitterSource(p, func() float64 { return 0 })
			assert.Equal(t, tt.want, p.Decide(tt.err, tt.delivered))
		})
	}
}

func TestDecideDelayGrows(t *testing.T) {
	t.Parallel()
	p := events.WithJitterSource(events.DefaultRetryPolicy(), func() float64 { return 0 }) // nominal
	prev := time.Duration(0)
	for n := uint64(1); n < uint64(p.MaxDeliver); n++ {
		d := p.Decide(errors.New("x"), n)
		require.Equal(t, events.ActionNak, d.Action, "delivery %d", n)
		assert.GreaterOrEqual(t, d.Delay, prev, "delivery %d", n)
		assert.LessOrEqual(t, d.Delay, p.MaxDelay, "delivery %d", n)
		prev = d.Delay
	}
}

// TestDecideJitter checks that every delay is drawn from [3/4 d, d] of its
// nominal d: transient, busy and outage retries alike.
func TestDecideJitter(t *testing.T) {
	t.Parallel()
	p := events.DefaultRetryPolicy()
	tests := []struct {
		name    string
		err     error
		nominal time.Duration
	}{
		{"transient", errors.New("x"), 2 * time.Second}, // third delivery
		{"busy", events.Busy(time.Second, "locked"), time.Second},
		{"outage", &events.OutageError{Dep: events.DepRedis, After: 4 * time.Second, Err: errors.New("x")}, 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			low := events.WithJitterSource(p, func() float64 { return 0.999999 }).Decide(tt.err, 3).Delay
			assert.InDelta(t, float64(tt.nominal)*3/4, float64(low), float64(time.Millisecond), "the shortest draw")
			high := events.WithJitterSource(p, func() float64 { return 0 }).Decide(tt.err, 3).Delay
			assert.Equal(t, tt.nominal, high, "the longest draw is the nominal delay, never more")
			seen := map[time.Duration]bool{}
			for range 50 {
				d := p.Decide(tt.err, 3).Delay
				require.GreaterOrEqual(t, d, tt.nominal*3/4)
				require.LessOrEqual(t, d, tt.nominal)
				seen[d] = true
			}
			assert.Greater(t, len(seen), 40, "the default source spreads the delays")
		})
	}
}

func TestRetryPolicyValidate(t *testing.T) {
	t.Parallel()
	ok := events.DefaultRetryPolicy()
	tests := []struct {
		name    string
		edit    func(*events.RetryPolicy)
		wantErr string
	}{
		{"default", func(*events.RetryPolicy) {}, ""},
		{"one delivery", func(p *events.RetryPolicy) { p.MaxDeliver, p.BusyMaxDeliver = 1, 1 }, ""},
		{"equal delays", func(p *events.RetryPolicy) { p.MaxDelay = p.BaseDelay }, ""},
		{"zero max deliver", func(p *events.RetryPolicy) { p.MaxDeliver = 0 }, "retry policy: max deliver must be at least 1, got 0"},
		{"zero base delay", func(p *events.RetryPolicy) { p.BaseDelay = 0 }, "retry policy: base delay must be positive, got 0s"},
		{
			"max below base", func(p *events.RetryPolicy) { p.MaxDelay = time.Millisecond },
			"retry policy: max delay 1ms is less than base delay 500ms",
		},
		{
			"negative busy max deliver", func(p *events.RetryPolicy) { p.BusyMaxDeliver = -1 },
			"retry policy: busy max deliver must be at least 1, got -1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := ok
			tt.edit(&p)
			err := p.Validate()
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.EqualError(t, err, tt.wantErr)
		})
	}
	want := events.RetryPolicy{MaxDeliver: 10, BaseDelay: 500 * time.Millisecond, MaxDelay: time.Minute, BusyMaxDeliver: 200}
	assert.Equal(t, want, ok)
}

func TestActionString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "ack", events.ActionAck.String())
	assert.Equal(t, "nak", events.ActionNak.String())
	assert.Equal(t, "dead_letter", events.ActionDeadLetter.String())
	assert.Equal(t, "Action(7)", events.Action(7).String())
}
