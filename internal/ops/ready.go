package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Check reports whether one dependency is usable; it must return when ctx
// ends. A nil error means ready.
type Check func(ctx context.Context) error

// Status values of one check in the /readyz body. The reason of a failure
// (hosts, users, TLS details) is logged, never served: anyone who reaches
// the ops port can read /readyz.
const (
	statusOK      = "ok"
	statusFailing = "failing"
)

// readiness serves /readyz: it runs every check concurrently under one
// deadline and answers 200 with {"name":"ok",...} when all pass, else 503 with
// "failing" in place of "ok" for each failing check. One run answers every
// request for cacheFor, so probes (and anyone else) cannot make the worker
// ping its dependencies more often than that; concurrent requests wait for
// the same run.
type readiness struct {
	checks   map[string]Check
	timeout  time.Duration
	cacheFor time.Duration
	now      func() time.Time
	log      *zap.Logger

	run1    sync.Mutex // one run at a time; held while running
	mu      sync.Mutex
	failing string // names failing at the last run, to log changes only
	body    map[string]string
	ready   bool
	ranAt   time.Time
	cached  bool
}

func newReadiness(checks map[string]Check, timeout, cacheFor time.Duration, now func() time.Time, log *zap.Logger) *readiness {
	if now == nil {
		now = time.Now
	}
	return &readiness{checks: checks, timeout: timeout, cacheFor: cacheFor, now: now, log: log}
}

func (h *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ready := h.result(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(body)
}

// result returns the cached body when it is fresh, else runs the checks (one
// run at a time) and caches the answer.
func (h *readiness) result(ctx context.Context) (map[string]string, bool) {
	if body, ready, ok := h.fresh(); ok {
		return body, ready
	}
	h.run1.Lock()
	defer h.run1.Unlock()
	if body, ready, ok := h.fresh(); ok { // another request ran them meanwhile
		return body, ready
	}
	rctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	results, failed := h.run(rctx)
	h.logChange(results, failed)
	body := make(map[string]string, len(results))
	for name, res := range results {
		body[name] = statusOK
		if res != statusOK {
			body[name] = statusFailing
		}
	}
	ready := len(failed) == 0
	if ctx.Err() != nil {
		return body, ready // cut short by the client going away (or Stop): not an answer to share
	}
	h.mu.Lock()
	h.body, h.ready, h.ranAt, h.cached = body, ready, h.now(), true
	h.mu.Unlock()
	return body, ready
}

// fresh returns the cached answer if it is younger than cacheFor.
func (h *readiness) fresh() (map[string]string, bool, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.cached || h.cacheFor <= 0 || h.now().Sub(h.ranAt) >= h.cacheFor {
		return nil, false, false
	}
	return h.body, h.ready, true
}

// run runs the checks and returns each one's status ("ok" or its error) and
// the sorted names of those that failed. A check still running when ctx ends
// is reported as failed; its goroutine ends when the check returns.
func (h *readiness) run(ctx context.Context) (map[string]string, []string) {
	type result struct {
		name string
		err  error
	}
	ch := make(chan result, len(h.checks)) // buffered: late checks never block
	for name, check := range h.checks {
		go func() { ch <- result{name: name, err: runCheck(ctx, check)} }()
	}
	results := make(map[string]string, len(h.checks))
	var failed []string
	for range len(h.checks) {
		select {
		case r := <-ch:
			if r.err != nil {
				results[r.name] = r.err.Error()
				failed = append(failed, r.name)
			} else {
				results[r.name] = statusOK
			}
		case <-ctx.Done():
			for name := range h.checks {
				if _, ok := results[name]; !ok {
					results[name] = fmt.Sprintf("no answer within %s: %v", h.timeout, ctx.Err())
					failed = append(failed, name)
				}
			}
			slices.Sort(failed)
			return results, failed
		}
	}
	slices.Sort(failed)
	return results, failed
}

// runCheck turns a panicking check into a failure instead of a crash.
func runCheck(ctx context.Context, check Check) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("check panicked: %v", v)
		}
	}()
	return check(ctx)
}

// logChange logs when the set of failing checks changes, not on every probe.
func (h *readiness) logChange(results map[string]string, failed []string) {
	key := strings.Join(failed, ",")
	h.mu.Lock()
	changed := key != h.failing
	h.failing = key
	h.mu.Unlock()
	// results holds each failing check's error: for the log only.
	if !changed {
		return
	}
	if len(failed) == 0 {
		h.log.Info("Ready")
		return
	}
	fields := make([]zap.Field, 0, len(failed))
	for _, name := range failed {
		fields = append(fields, zap.String(name, results[name]))
	}
	h.log.Warn("Not ready", zap.Strings("failing", failed), zap.Dict("errors", fields...))
}
