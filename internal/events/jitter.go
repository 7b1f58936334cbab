package events

import (
	"math/rand/v2"
	"time"
)

// jitterFraction is how much shorter than its nominal value a jittered
// delay may be: delays are drawn from [d×(1−jitterFraction), d]. Never
// longer, so the configured caps (--retry-max-delay, --outage-probe-max)
// stay caps; at most a quarter shorter, so the schedule keeps its shape.
const jitterFraction = 0.25

// jitter spreads d over [d×(1−jitterFraction), d] using r, a value in [0, 1)
// (nil: math/rand/v2). Retries and probes of many messages or replicas that
// failed together then come back spread out, not at one instant.
func jitter(d time.Duration, r func() float64) time.Duration {
	if d <= 0 {
		return d
	}
	if r == nil {
		r = rand.Float64
	}
	return d - time.Duration(float64(d)*jitterFraction*r())
}
