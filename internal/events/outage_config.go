package events

import (
	"errors"
	"fmt"
	"time"
)

// OutageConfig tunes outage mode (Outages): when a dependency counts as
// down, and how it is probed until it answers again.
type OutageConfig struct {
	// Errors is how many dependency errors of one dependency in a row (no
	// event finished in between) pause it even while its probe answers (a
	// Redis replica that answers PING but refuses writes). The first
	// dependency error already pauses it when the probe fails.
	Errors int
	// ProbeBase is the first wait before probing a paused dependency; it
	// doubles after each failed probe, up to ProbeMax.
	ProbeBase time.Duration
	// ProbeMax caps the probe interval; it also caps how long a message held
	// for an outage waits before it is delivered again.
	ProbeMax time.Duration
	// ProbeTimeout bounds one probe.
	ProbeTimeout time.Duration
}

// DefaultOutageConfig returns the defaults: pause after a failed probe or 5
// dependency errors in a row; probe after 500ms, doubling up to 10s, 2s
// each. The cap bounds how long after a dependency's return the held and
// parked events wait for the probe that resumes it (30s until this default
// changed); a probe every 10s of a dependency that is down costs nothing.
func DefaultOutageConfig() OutageConfig {
	return OutageConfig{Errors: 5, ProbeBase: 500 * time.Millisecond, ProbeMax: 10 * time.Second, ProbeTimeout: 2 * time.Second}
}

// Validate reports every setting that cannot work.
func (c OutageConfig) Validate() error {
	var errs []error
	if c.Errors < 2 {
		// At 1 every dependency error pauses before the probe is asked: an
		// event that always fails that way (misclassified) is held forever.
		errs = append(errs, fmt.Errorf("outage errors %d: must be at least 2", c.Errors))
	}
	if c.ProbeBase < time.Millisecond {
		errs = append(errs, fmt.Errorf("outage probe base %s: must be at least 1ms", c.ProbeBase))
	}
	if c.ProbeMax < c.ProbeBase {
		errs = append(errs, fmt.Errorf("outage probe max %s: must be at least the probe base (%s)", c.ProbeMax, c.ProbeBase))
	}
	if c.ProbeTimeout < time.Millisecond {
		errs = append(errs, fmt.Errorf("outage probe timeout %s: must be at least 1ms", c.ProbeTimeout))
	}
	return errors.Join(errs...)
}
