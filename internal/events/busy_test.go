package events

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestDecideAfterBusy(t *testing.T) {
	p := DefaultRetryPolicy()            // MaxDeliver 10, BaseDelay 500ms
	p.rand = func() float64 { return 0 } // nominal delays
	redisDown := errors.New("redis down")
	tests := []struct {
		name            string
		err             error
		delivered, busy uint64
		want            Decision
	}{
		{
			"transient after 12 busy deliveries is a first attempt", redisDown, 13, 12,
			Decision{Action: ActionNak, Delay: 500 * time.Millisecond, Outcome: OutcomeRetry, Reason: "redis down"},
		},
		{
			"its budget is the attempts, not the deliveries", redisDown, 21, 12,
			Decision{Action: ActionNak, Delay: 1 * time.Minute, Outcome: OutcomeRetry, Reason: "redis down"},
		},
		{
			"dead-lettered after MaxDeliver real attempts", redisDown, 22, 12,
			Decision{Action: ActionDeadLetter, Outcome: OutcomeDeadLettered, Reason: "gave up after 22 deliveries: redis down"},
		},
		{
			"busy still counts every delivery", Busy(time.Second, "locked"), 200, 199,
			Decision{Action: ActionDeadLetter, Outcome: OutcomeDeadLettered, Reason: "still busy after 200 deliveries: busy: locked"},
		},
		{
			"busy larger than delivered is clamped", redisDown, 1, 5,
			Decision{Action: ActionNak, Delay: 500 * time.Millisecond, Outcome: OutcomeRetry, Reason: "redis down"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, p.DecideAfterBusy(tt.err, tt.delivered, tt.busy))
		})
	}
	assert.Equal(t, p.Decide(redisDown, 3), p.DecideAfterBusy(redisDown, 3, 0), "Decide is DecideAfterBusy with none")
}

func TestBusyCountsBounded(t *testing.T) {
	b := newBusyCounts(3)
	b.add(1)
	b.add(1)
	b.add(2)
	assert.Equal(t, uint64(2), b.get(1))
	b.forget(2)
	assert.Zero(t, b.get(2))
	b.add(3)
	b.add(4)
	b.add(5) // beyond 3 remembered: the oldest go
	assert.Zero(t, b.get(1))
	assert.Equal(t, uint64(1), b.get(5))
	assert.LessOrEqual(t, len(b.m), 3)
}
