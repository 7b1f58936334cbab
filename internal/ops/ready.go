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

// readiness serves /readyz: it runs every check concurrently under one
// deadline and answers 200 with {"name":"ok",...} when all pass, else 503 with
// each failing check's error in place of "ok".
type readiness struct {
	checks  map[string]Check
	timeout time.Duration
	log     *zap.Logger

	mu      sync.Mutex
	failing string // names failing at the last request, to log changes only
}

func newReadiness(checks map[string]Check, timeout time.Duration, log *zap.Logger) *readiness {
	return &readiness{checks: checks, timeout: timeout, log: log}
}

func (h *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	results, failed := h.run(ctx)
	h.logChange(results, failed)

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if len(failed) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(results)
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
				results[r.name] = "ok"
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
