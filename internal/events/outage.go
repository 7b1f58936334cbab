package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Watch is one dependency outage mode watches.
type Watch struct {
	// Probe answers nil when the dependency serves again (a PING). It must
	// return when ctx ends. It never returns secrets in its error (logged).
	Probe func(ctx context.Context) error
	// PausesPulling says every flow needs the dependency (Redis): while it
	// is down the replica pulls nothing and hands back what it holds. When
	// false (MongoDB, needed by cold logins and a few server events only) the
	// replica keeps pulling; only the events that fail on it are held.
	PausesPulling bool
}

// Watches are the dependencies outage mode watches, by name.
type Watches map[Dependency]Watch

// Outages is outage mode: the healthy or paused state of each watched
// dependency (DESIGN hard case 28: a dependency down for minutes dead-letters
// nothing). A dependency pauses when a handler failed on it
// (*DependencyError) and a probe right then fails, or after
// OutageConfig.Errors such failures in a row. A paused dependency is probed
// with a jittered, doubling interval (ProbeBase up to ProbeMax) and resumes
// by itself on the first probe that answers.
//
// The choice between one global pause and a pause per dependency: Redis
// pauses pulling (every flow needs it, so anything pulled would only fail);
// MongoDB pauses only what needs it: Check refuses MongoDB calls at once
// while it is down, the failing events (cold logins, server events that must
// resolve a server in MongoDB) are held with a capped delay, and warm logins
// and the other server events keep flowing.
//
// A nil *Outages watches nothing: Judge returns errors unchanged.
type Outages struct {
	cfg     OutageConfig
	log     *zap.Logger
	metrics *Metrics
	rand    func() float64 // jitter source; nil is math/rand/v2

	// Read on every message without the mutex (written under it): whether
	// any dependency has errors in a row, and whether one pauses pulling.
	erred         atomic.Bool
	pullingPaused atomic.Bool

	mu      sync.Mutex
	deps    map[Dependency]*depState
	changed chan struct{}  // closed and replaced on every pause or resume
	onPause []func()       // called (outside mu) when pulling pauses
	stop    chan struct{}  // closed by Close
	probes  sync.WaitGroup // probe loops
	closed  bool
}

// depState is one dependency's state, guarded by Outages.mu.
type depState struct {
	watch    Watch
	paused   bool
	since    time.Time     // when it paused
	errors   int           // dependency errors in a row
	interval time.Duration // current probe interval while paused
	probing  chan struct{} // closed when the running immediate probe ends
	okAt     time.Time     // the last immediate probe that answered
}

// NewOutages returns outage mode for watches; nothing runs until a
// dependency pauses. Close stops the probes.
func NewOutages(cfg OutageConfig, watches Watches, log *zap.Logger, metrics *Metrics) (*Outages, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new outages: %w", err)
	}
	if log == nil {
		log = zap.NewNop()
	}
	o := &Outages{
		cfg: cfg, log: log, metrics: metrics,
		deps:    make(map[Dependency]*depState, len(watches)),
		changed: make(chan struct{}),
		stop:    make(chan struct{}),
	}
	for dep, w := range watches {
		if w.Probe == nil {
			return nil, fmt.Errorf("new outages: no probe for %s", dep)
		}
		o.deps[dep] = &depState{watch: w}
		metrics.setPaused(dep, false)
	}
	return o, nil
}

// Judge is called by the consume loop with every handler result. A failure
// while a dependency it needs is down becomes an *OutageError (held, not
// counted): a *DependencyError whose dependency is down or goes down now
// (probe), or any other transient failure while a dependency that pauses
// pulling is down. A success resets the error runs. Anything else is
// returned unchanged, and counts.
func (o *Outages) Judge(ctx context.Context, err error) error {
	if o == nil {
		return err
	}
	if err == nil {
		o.succeeded()
		return nil
	}
	if errors.Is(err, ErrPermanent) || errors.Is(err, ErrSkip) || errors.Is(err, ErrShutdown) {
		return err
	}
	if _, busy := errors.AsType[*BusyError](err); busy {
		return err
	}
	if de, ok := errors.AsType[*DependencyError](err); ok {
		// A call refused by Check never reached the dependency: held even
		// when the dependency resumed since, and no error in a row.
		if errors.Is(de.Err, ErrPaused) || o.failed(ctx, de.Dep) {
			return &OutageError{Dep: de.Dep, After: o.holdFor(de.Dep), Err: err}
		}
	}
	if dep, ok := o.pullingPausedBy(); ok {
		return &OutageError{Dep: dep, After: o.holdFor(dep), Err: err}
	}
	return err
}

// Check returns a *DependencyError wrapping ErrPaused while dep is paused,
// else nil: callers skip a call that could only time out.
func (o *Outages) Check(dep Dependency) error {
	if o == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if s := o.deps[dep]; s != nil && s.paused {
		return Unavailable(dep, ErrPaused)
	}
	return nil
}

// Paused returns the paused dependencies, sorted (for /readyz).
func (o *Outages) Paused() []Dependency {
	return o.depsWhere(func(s *depState) bool { return s.paused })
}

// depsWhere returns the watched dependencies whose state matches, sorted.
func (o *Outages) depsWhere(match func(*depState) bool) []Dependency {
	if o == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Dependency
	for dep, s := range o.deps {
		if match(s) {
			out = append(out, dep)
		}
	}
	slices.Sort(out)
	return out
}

// Close stops the probe loops and waits for them. Dependencies stay as they
// are; Close is for shutdown, after the consumer stopped.
func (o *Outages) Close() {
	if o == nil {
		return
	}
	o.mu.Lock()
	if !o.closed {
		o.closed = true
		close(o.stop)
	}
	o.mu.Unlock()
	o.probes.Wait()
}

// failed records a dependency error of dep and reports whether dep is
// down: paused already, paused now after Errors in a row, or paused now
// because a probe (shared by concurrent callers, reused for ProbeBase after
// it answered) fails.
func (o *Outages) failed(ctx context.Context, dep Dependency) bool {
	o.mu.Lock()
	s := o.deps[dep]
	if s == nil {
		o.mu.Unlock()
		return false
	}
	if s.paused {
		o.mu.Unlock()
		return true
	}
	s.errors++
	o.erred.Store(true)
	if s.errors >= o.cfg.Errors {
		o.pauseAndUnlock(dep, s, fmt.Sprintf("%d dependency errors in a row", s.errors))
		return true
	}
	if time.Since(s.okAt) < o.cfg.ProbeBase {
		o.mu.Unlock()
		return false // it answered a moment ago: this failure is the event's
	}
	if wait := s.probing; wait != nil {
		o.mu.Unlock()
		<-wait
		o.mu.Lock()
		paused := s.paused
		o.mu.Unlock()
		return paused
	}
	done := make(chan struct{})
	s.probing = done
	o.mu.Unlock()

	perr := o.probe(ctx, s.watch)

	o.mu.Lock()
	s.probing = nil
	defer close(done)
	switch {
	case s.paused:
		o.mu.Unlock()
		return true
	case perr == nil:
		s.okAt = time.Now()
		o.mu.Unlock()
		return false
	}
	o.pauseAndUnlock(dep, s, "probe failed: "+perr.Error())
	return true
}

// probe runs w's probe under ProbeTimeout, detached from ctx's cancellation
// (a handler's deadline must not fail the probe).
func (o *Outages) probe(ctx context.Context, w Watch) error {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.cfg.ProbeTimeout)
	defer cancel()
	return w.Probe(pctx)
}

// succeeded resets every dependency's error run: an event finished.
func (o *Outages) succeeded() {
	if !o.erred.Load() {
		return // the common case: nothing to reset, no lock per message
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.deps {
		s.errors = 0
	}
	o.erred.Store(false)
}

// pullingPausedBy returns a paused dependency that pauses pulling.
func (o *Outages) pullingPausedBy() (Dependency, bool) {
	if o == nil || !o.pullingPaused.Load() {
		return "", false // the common case: no lock per message
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for dep, s := range o.deps {
		if s.paused && s.watch.PausesPulling {
			return dep, true
		}
	}
	return "", false
}

// holdFor is how long a message held for dep waits: about until the next
// probe (the current interval, jittered, at most ProbeMax), so held messages
// come back spread out and not long after the dependency does.
func (o *Outages) holdFor(dep Dependency) time.Duration {
	o.mu.Lock()
	d := o.cfg.ProbeBase
	if s := o.deps[dep]; s != nil && s.interval > 0 {
		d = s.interval
	}
	o.mu.Unlock()
	return jitter(min(d, o.cfg.ProbeMax), o.rand)
}

// pauseAndUnlock pauses dep (o.mu held, released here), starts its probe
// loop and, when it pauses pulling, tells the consumers.
func (o *Outages) pauseAndUnlock(dep Dependency, s *depState, why string) {
	if s.paused || o.closed {
		o.mu.Unlock()
		return
	}
	s.paused, s.since, s.interval = true, time.Now(), o.cfg.ProbeBase
	o.syncPullingPaused()
	o.broadcastLocked()
	var calls []func()
	if s.watch.PausesPulling {
		calls = slices.Clone(o.onPause)
	}
	o.probes.Add(1)
	o.mu.Unlock()

	o.metrics.setPaused(dep, true)
	o.log.Warn("Dependency down, holding the events that need it",
		zap.String("dependency", string(dep)), zap.Bool("pulling_paused", s.watch.PausesPulling), zap.String("reason", why))
	for _, f := range calls {
		f()
	}
	go o.probeLoop(dep, s)
}

// broadcastLocked wakes everyone waiting for a state change (o.mu held).
func (o *Outages) broadcastLocked() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// pausesPulling reports whether dep is watched as a dependency every flow
// needs (its outage pauses pulling).
func (o *Outages) pausesPulling(dep Dependency) bool {
	if o == nil {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.deps[dep]
	return s != nil && s.watch.PausesPulling
}

// parkableDeps returns the watched dependencies that do not pause pulling
// (their held events may be parked), sorted.
func (o *Outages) parkableDeps() []Dependency {
	return o.depsWhere(func(s *depState) bool { return !s.watch.PausesPulling })
}

// syncPullingPaused sets pullingPaused from the states; o.mu is held.
func (o *Outages) syncPullingPaused() {
	for _, s := range o.deps {
		if s.paused && s.watch.PausesPulling {
			o.pullingPaused.Store(true)
			return
		}
	}
	o.pullingPaused.Store(false)
}
