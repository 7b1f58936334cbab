package events

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// probeLoop probes the paused dep after a jittered interval that doubles
// after each failure (ProbeBase up to ProbeMax) and resumes it on the first
// answer. It returns then, or when Close is called.
func (o *Outages) probeLoop(dep Dependency, s *depState) {
	defer o.probes.Done()
	failures := 0
	for {
		o.mu.Lock()
		interval := s.interval
		o.mu.Unlock()
		t := time.NewTimer(jitter(interval, o.rand))
		select {
		case <-o.stop:
			t.Stop()
			return
		case <-t.C:
		}
		err := o.probe(context.Background(), s.watch)
		if err == nil {
			o.resume(dep, s, failures)
			return
		}
		failures++
		if failures == 1 || failures%10 == 0 { // a long outage logs now and then, not every probe
			o.log.Warn("Dependency still down",
				zap.String("dependency", string(dep)), zap.Int("failed_probes", failures),
				zap.Duration("next_probe_in", min(2*interval, o.cfg.ProbeMax)), zap.Error(err))
		}
		o.mu.Lock()
		s.interval = min(2*interval, o.cfg.ProbeMax)
		o.mu.Unlock()
	}
}

// resume marks dep healthy again and wakes the waiting pull loops.
func (o *Outages) resume(dep Dependency, s *depState, failedProbes int) {
	o.mu.Lock()
	s.paused, s.errors, s.interval = false, 0, 0
	o.syncPullingPaused()
	// The probe loop's answer does not vouch for the next failures: a Redis
	// out of memory answers once keys expired and is full again with the
	// first events resumed (review 9). The first failure after a resume runs
	// its own probe, shared by the concurrent ones.
	s.okAt = time.Time{}
	downFor := time.Since(s.since)
	o.broadcastLocked()
	o.mu.Unlock()
	o.metrics.setPaused(dep, false)
	o.log.Info("Dependency back, resuming",
		zap.String("dependency", string(dep)), zap.Duration("down_for", downFor), zap.Int("failed_probes", failedProbes))
}

// waitPulling blocks while a dependency that pauses pulling is down. It
// returns false when stop is closed first.
func (o *Outages) waitPulling(stop <-chan struct{}) bool {
	if o == nil {
		return true
	}
	for {
		o.mu.Lock()
		changed := o.changed
		o.mu.Unlock()
		if _, paused := o.pullingPausedBy(); !paused {
			return true
		}
		select {
		case <-changed:
		case <-stop:
			return false
		}
	}
}

// onPullingPaused registers f, called when a dependency that pauses pulling
// goes down (the consumer drains its iterator).
func (o *Outages) onPullingPaused(f func()) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.onPause = append(o.onPause, f)
}
